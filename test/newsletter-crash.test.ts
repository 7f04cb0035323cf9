// The crash drill in the suite: the newsletter CLI, a real process, is killed with SIGKILL a quarter of the
// way through 2,000 recipients; `resume` finishes the job. Everyone gets the newsletter; duplicates are
// at most the messages that were in flight at the kill.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { hostname } from 'node:os';
import t from 'tap';
import { runCli } from '../src/cli/index.js';
import { loadConfig } from '../src/config.js';
import { closeDatabase, migrateDatabase, openDatabase } from '../src/db/client.js';
import { manualClock, systemClock } from '../src/lib/clock.js';
import { SENDER_LEASE_MS } from '../src/modules/campaigns/campaigns.service.js';
import { createServices } from '../src/services.js';
import { newsletterSetup, sendArgv, spawnConvene } from './helpers/newsletter.js';
import { createClusterWithOrganiser } from './fixtures.js';
import { buildTestApp, tempDir, TEST_SECRET } from './helper.js';

const RECIPIENTS = 2000;
const CONCURRENCY = 4;

t.test('SIGKILL the sending CLI midway, then resume: everyone gets one copy, duplicates ≤ in flight', { timeout: 180_000 }, async (t) => {
  const world = await newsletterSetup(t, { clusterName: 'North West', env: { MAIL_CONCURRENCY: String(CONCURRENCY) } });
  const { sink, env, config } = world;
  world.addReaders(RECIPIENTS);
  closeDatabase(world.database.sqlite);
  const body = world.write('news.md', '# News\n\nHello from the cluster.');

  // The first run, as a real process; killed once a quarter of the messages have arrived.
  const child = spawnConvene(env, sendArgv('News', body, '--yes', '--rate', '1000', '--json'));
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal === 'SIGKILL' ? -9 : _code)));
  const deadline = Date.now() + 120_000;
  while (sink.messages.length < RECIPIENTS / 4 && Date.now() < deadline) {
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const live = { exit: 0, out: '' };
  live.exit = await runCli(['newsletter', 'list', '--cluster', 'north-west', '--json'], {
    env,
    io: { stdout: (s) => (live.out += s), stderr: () => {}, isTTY: false },
  });
  child.kill('SIGKILL');
  t.match(JSON.parse(live.out), [{ status: 'sending' }], 'while its sender runs, the campaign is sending');
  t.equal(await exited, -9, `the CLI was killed mid-send (stderr: ${stderr.slice(0, 300)})`);
  const atKill = sink.messages.length;
  t.ok(atKill > 0 && atKill < RECIPIENTS, `killed midway: ${atKill} delivered so far`);

  // Count what the database believed at the kill: sent rows, and rows claimed but not recorded.
  const check = openDatabase(config.databasePath);
  const inFlight = (
    check.sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE kind = 'newsletter' AND status = 'sending'").get() as { n: number }
  ).n;
  const campaignId = (check.sqlite.prepare('SELECT id FROM campaigns').get() as { id: string }).id;
  closeDatabase(check.sqlite);
  t.ok(inFlight <= CONCURRENCY, `at most ${CONCURRENCY} messages were in flight (${inFlight})`);

  // Nobody is sending it now, and list and status say so (not "sending" for ever).
  const cli = async (...argv: string[]) => {
    let out = '';
    const exit = await runCli(argv, { env, io: { stdout: (s) => (out += s), stderr: () => {}, isTTY: false } });
    return { exit, out };
  };
  t.match(JSON.parse((await cli('newsletter', 'status', campaignId, '--json')).out), { status: 'interrupted' });
  t.match(JSON.parse((await cli('newsletter', 'list', '--cluster', 'north-west', '--json')).out), [{ campaignId, status: 'interrupted' }]);
  t.match((await cli('newsletter', 'status', campaignId)).out, `Nobody is sending it`);
  t.match((await cli('newsletter', 'list', '--cluster', 'north-west')).out, `interrupted  "News"`);

  let stdout = '';
  const code = await runCli(['newsletter', 'resume', campaignId, '--json'], {
    env,
    io: { stdout: (s) => (stdout += s), stderr: () => {}, isTTY: false },
  });
  t.equal(code, 0, stdout);
  t.match(JSON.parse(stdout), { status: 'sent', sent: RECIPIENTS, pending: 0, failed: 0 });
  t.match(JSON.parse((await cli('newsletter', 'status', campaignId, '--json')).out), { status: 'sent' });

  const copies = new Map<string, number>();
  for (const message of sink.messages) copies.set(message.envelope.to[0]!, (copies.get(message.envelope.to[0]!) ?? 0) + 1);
  t.equal(copies.size, RECIPIENTS, 'every subscriber received the newsletter');
  const duplicates = sink.messages.length - RECIPIENTS;
  t.ok(duplicates <= inFlight, `duplicates (${duplicates}) are at most the messages in flight at the kill (${inFlight})`);
  t.comment(`delivered before the kill: ${atKill}; in flight: ${inFlight}; duplicates: ${duplicates}`);
});

t.test('a campaign is "sending" while its sender lives and speaks, "interrupted" once it has exited or fallen silent', async (t) => {
  const dataDir = tempDir(t);
  const env = { DATA_DIR: dataDir, SECRET_KEY: TEST_SECRET, LOG_LEVEL: 'silent', PUBLIC_BASE_URL: 'https://convene.test' };
  const config = loadConfig(env);
  const database = openDatabase(config.databasePath);
  migrateDatabase(database.db);
  t.teardown(() => closeDatabase(database.sqlite));
  const services = createServices({ db: database.db, clock: systemClock, config });
  const actor = { type: 'cli' as const, label: 'test' };
  const cluster = services.clusters.create({ slug: 'north-west', name: 'North West' }, actor);
  const campaign = services.campaigns.createDraft(cluster, { subject: 'News', body: 'Hello' }, actor);
  services.campaigns.start(campaign.id, actor);
  const cli = async (...argv: string[]) => {
    let out = '';
    let err = '';
    const exit = await runCli(argv, { env, io: { stdout: (s) => (out += s), stderr: (s) => (err += s), isTTY: false } });
    return { exit, out, err };
  };
  const status = async () => (JSON.parse((await cli('newsletter', 'status', campaign.id, '--json')).out) as { status: string }).status;
  const setSender = (sender: string, silentMs: number) =>
    database.sqlite
      .prepare('UPDATE campaigns SET sender = ?, heartbeat_at = ? WHERE id = ?')
      .run(sender, Date.now() - silentMs, campaign.id);

  // Another process on this host, alive and heard from a moment ago, is sending it.
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  t.teardown(() => other.kill('SIGKILL'));
  setSender(`${hostname()}:${other.pid}`, 1000);
  t.equal(await status(), 'sending');
  const refused = await cli('newsletter', 'resume', campaign.id);
  t.equal(refused.exit, 1, 'resume leaves a live sender alone');
  t.match(refused.err, `${hostname()}:${other.pid} is sending this campaign now`);
  setSender(`${hostname()}:${other.pid}`, 31_000);
  t.equal(await status(), 'interrupted', 'alive but silent for longer than the lease: hung');
  setSender('another-host:1', 1000);
  t.equal(await status(), 'sending', 'a sender on another host is judged by its heartbeat');
  setSender('another-host:1', 31_000);
  t.equal(await status(), 'interrupted');
  other.kill('SIGKILL');
  await once(other, 'exit');
  setSender(`${hostname()}:${other.pid}`, 0);
  t.equal(await status(), 'interrupted', 'a sender on this host that has exited, however recent its heartbeat');

  const resumed = await cli('newsletter', 'resume', campaign.id, '--json');
  t.equal(resumed.exit, 0, resumed.err);
  t.equal(await status(), 'sent', 'resume carried on (nobody to send to here) and finished it');
});

t.test('the API shows a campaign whose sender fell silent as interrupted', async (t) => {
  const clock = manualClock('2026-11-23T09:00:00Z');
  const { app, database, services } = await buildTestApp(t, { clock });
  const { auth } = createClusterWithOrganiser(database, 'north-west', clock);
  const created = await app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/campaigns',
    headers: auth,
    payload: { subject: 'News', body: 'Hello' },
  });
  t.equal(created.statusCode, 201, created.body);
  const id = created.json<{ id: string }>().id;
  services.campaigns.start(id, { type: 'cli', label: 'test' });
  const shown = async () => (await app.inject({ url: `/v1/campaigns/${id}`, headers: auth })).json<{ status: string }>().status;
  t.equal(await shown(), 'sending', 'its sender (this process) has just spoken');
  clock.advance(SENDER_LEASE_MS + 1000);
  t.equal(await shown(), 'interrupted', 'silent for longer than the lease');
  services.campaigns.heartbeat(id);
  t.equal(await shown(), 'sending', 'a heartbeat makes it sending again');
});
