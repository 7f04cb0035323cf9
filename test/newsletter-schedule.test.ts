// Scheduled sends: a draft scheduled in the cluster's local time starts at that time on the test clock,
// sent by the server's scheduler through a real SMTP server, each reader once; a pause over the API stops
// it within a tick and `newsletter resume` carries on; a server that shuts down mid-send leaves it to the
// next server, which takes it over; bad schedules are refused and change nothing.
import { join } from 'node:path';
import t from 'tap';
import { openDatabase } from '../src/db/client.js';
import { manualClock } from '../src/lib/clock.js';
import { newId } from '../src/lib/ids.js';
import { buildTestApp } from './helper.js';
import { newsletterSetup } from './helpers/newsletter.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

t.test('a scheduled campaign starts at its local time, can be paused and resumed, and survives a restart', async (t) => {
  const world = await newsletterSetup(t);
  const { sink, run, services } = world;
  const clock = manualClock('2026-11-23T09:00:00Z');
  services.clusters.update('north-west', { timezone: 'America/New_York' }, { type: 'cli', label: 'test' });
  const env = { SMTP_URL: world.sink.url, DATA_DIR: world.dataDir, DATABASE_PATH: join(world.dataDir, 'convene.db') };
  let built = await buildTestApp(t, { database: world.database, clock, env });
  const organiser = services.organisers.create(
    'north-west',
    { email: 'olivia@nw.example', name: 'Olivia' },
    { type: 'cli', label: 'test' },
  );
  const auth = { authorization: `Bearer ${organiser.apiKey}` };
  const addReaders = (prefix: string, count: number) => {
    const sqlite = built.database.sqlite;
    const insert = sqlite.prepare(
      "INSERT INTO subscribers (id, cluster_id, email, status, topics, themes, created_at, updated_at, confirmed_at) VALUES (?, ?, ?, 'confirmed', '[\"newsletter\"]', '[]', ?, ?, ?)",
    );
    const now = Date.now();
    sqlite.transaction(() => {
      for (let i = 0; i < count; i++) insert.run(newId(), world.cluster.id, `${prefix}${i}@example.org`, now, now, now);
    })();
  };
  const draft = async (subject: string, rate = 50) => {
    const created = await built.app.inject({
      method: 'POST',
      url: '/v1/clusters/north-west/campaigns',
      headers: auth,
      payload: { subject, body: 'Hello {{first_name|there}}.', rate },
    });
    t.equal(created.statusCode, 201, created.body);
    return created.json().id as string;
  };
  const schedule = (id: string, at: string | null) =>
    built.app.inject({ method: 'POST', url: `/v1/campaigns/${id}/schedule`, headers: auth, payload: { at } });
  const campaign = async (id: string) => (await built.app.inject({ method: 'GET', url: `/v1/campaigns/${id}`, headers: auth })).json();
  const job = () => built.services.jobs.find((j) => j.name === 'scheduled-campaigns')!;
  const received = (subject: string) => sink.messages.filter((m) => m.parsed.subject === subject).map((m) => m.envelope.to[0]!);

  // 1. Three readers; a draft scheduled for 05:30 in New York (10:30 UTC in November).
  addReaders('early', 3);
  const first = await draft('Winter news');
  const scheduled = await schedule(first, '2026-11-23T05:30');
  t.equal(scheduled.statusCode, 200, scheduled.body);
  t.equal(scheduled.json().scheduledAt, '2026-11-23T10:30:00.000Z', "local time in the cluster's zone");
  t.equal(scheduled.json().status, 'draft');

  // Bad schedules are refused and change nothing.
  for (const [at, code] of [
    ['2026-11-23T03:59', 'VALIDATION_FAILED'], // 08:59 UTC: in the past
    ['2027-03-14T02:30', 'NONEXISTENT_LOCAL_TIME'], // New York springs forward over 02:00-03:00
    ['tomorrow at nine', 'VALIDATION_FAILED'],
    ['2028-06-01T09:00', 'VALIDATION_FAILED'], // more than a year ahead
  ] as const) {
    const refused = await schedule(first, at);
    t.equal(refused.json().code, code, `${at}: ${code}`);
  }
  t.equal((await campaign(first)).scheduledAt, '2026-11-23T10:30:00.000Z', 'the schedule is unchanged');
  const pauseDraft = await built.app.inject({ method: 'POST', url: `/v1/campaigns/${first}/pause`, headers: auth });
  t.equal(pauseDraft.json().code, 'CAMPAIGN_NOT_SENDING');
  const stranger = services.clusters.create({ slug: 'yorkshire', name: 'Yorkshire' }, { type: 'cli', label: 'test' });
  const otherKey = services.organisers.create(stranger.slug, { email: 'y@y.example', name: 'Y' }, { type: 'cli', label: 'test' }).apiKey;
  const foreign = await built.app.inject({
    method: 'POST',
    url: `/v1/campaigns/${first}/schedule`,
    headers: { authorization: `Bearer ${otherKey}` },
    payload: { at: null },
  });
  t.equal(foreign.json().code, 'CAMPAIGN_NOT_FOUND', "another cluster's organiser cannot touch it");

  // 2. Not before its time; then once.
  clock.set('2026-11-23T10:29:59Z');
  t.equal(job().run(), 0, 'a second early: nothing starts');
  t.equal(received('Winter news').length, 0);
  clock.set('2026-11-23T10:30:00Z');
  t.equal(job().run(), 1, 'at its time it starts');
  t.equal(job().run(), 0, 'and only once');
  await until('the scheduled send to finish', () => built.services.scheduler.sending().length === 0);
  t.same(received('Winter news').sort(), ['early0@example.org', 'early1@example.org', 'early2@example.org'], 'each reader once');
  t.match(await campaign(first), { status: 'sent', scheduledAt: '2026-11-23T10:30:00.000Z', stats: { sent: 3, recipients: 3 } });
  t.equal((await schedule(first, '2026-11-24T09:00')).json().code, 'CAMPAIGN_STARTED', 'a sent campaign cannot be scheduled');
  const audit = built.database.sqlite.prepare("SELECT actor_type AS actor FROM audit_events WHERE action = 'campaign.started'").all();
  t.same(audit, [{ actor: 'system' }], 'the scheduler started it, as the audit log says');

  // 3. A slower one is paused over the API while it sends, then resumed from the command line.
  addReaders('many', 60);
  const second = await draft('Spring news', 20);
  t.equal((await schedule(second, '2026-11-23T06:00')).statusCode, 200);
  clock.set('2026-11-23T11:00:00Z');
  t.equal(job().run(), 1);
  await until('some copies to leave', () => received('Spring news').length >= 5);
  const paused = await built.app.inject({ method: 'POST', url: `/v1/campaigns/${second}/pause`, headers: auth });
  t.equal(paused.statusCode, 200, paused.body);
  t.equal(paused.json().status, 'paused');
  const atPause = received('Spring news').length;
  await until('the scheduler to stop sending it', () => built.services.scheduler.sending().length === 0);
  await sleep(600);
  const afterPause = received('Spring news').length;
  t.ok(afterPause <= atPause + 4, `only copies in flight left after the pause (${atPause} then ${afterPause})`);
  t.ok(afterPause < 63, 'the pause stopped it before the end');
  const resumed = await run('newsletter', 'resume', second);
  t.equal(resumed.code, 0, resumed.stderr);
  const spring = received('Spring news');
  t.equal(spring.length, 63, 'after resume, every reader has it');
  t.equal(new Set(spring).size, 63, 'nobody twice');

  // 4. A server that shuts down mid-send leaves it marked sending; the next server takes it over.
  const third = await draft('Summer news', 20);
  t.equal((await schedule(third, '2026-11-23T07:00')).statusCode, 200);
  clock.set('2026-11-23T12:00:00Z');
  t.equal(job().run(), 1);
  await until('some copies to leave', () => received('Summer news').length >= 5);
  await built.app.close();
  const left = received('Summer news').length;
  t.ok(left < 63, `shut down part-way (${left} sent)`);
  const database = openDatabase(join(world.dataDir, 'convene.db'));
  built = await buildTestApp(t, { database, clock, env });
  t.equal((await campaign(third)).status, 'sending', 'still marked sending: its sender may yet come back');
  t.equal(job().run(), 0, 'not taken over while its sender might still be alive');
  clock.advance(31_000);
  t.equal((await campaign(third)).status, 'interrupted', 'silent for 30 s: interrupted');
  t.equal(job().run(), 1, 'the next server takes it over');
  await until('the taken-over send to finish', () => built.services.scheduler.sending().length === 0);
  const summer = received('Summer news');
  t.equal(new Set(summer).size, 63, 'every reader has it');
  t.ok(summer.length <= 63 + 4, `at most the copies in flight at the shutdown twice (${summer.length - 63})`);
  t.equal((await campaign(third)).status, 'sent');
});

t.test('the scheduler starts only a draft that is still scheduled for now', async (t) => {
  const world = await newsletterSetup(t);
  const { services, cluster, addReaders, database } = world;
  addReaders(3);
  const actor = { type: 'cli', label: 'test' } as const;
  const status = (id: string) =>
    (database.sqlite.prepare('SELECT status FROM campaigns WHERE id = ?').get(id) as { status: string }).status;
  // Never scheduled (or unscheduled after the job read it as due): not started.
  const unscheduled = services.campaigns.createDraft(cluster, { subject: 'Not yet', body: 'Hi' }, actor);
  t.equal(services.campaigns.startScheduled(unscheduled.id, actor), false);
  t.equal(status(unscheduled.id), 'draft', 'still a draft');
  // Scheduled for later: not started either.
  const later = services.campaigns.createDraft(cluster, { subject: 'Later', body: 'Hi' }, actor);
  services.campaigns.schedule(later.id, new Date(Date.now() + 3_600_000).toISOString().slice(0, 16), actor);
  t.equal(services.campaigns.startScheduled(later.id, actor), false);
  t.equal(status(later.id), 'draft');
});
