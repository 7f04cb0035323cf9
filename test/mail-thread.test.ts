// The server's mail thread (MAIL_THREAD): the mail worker and the scheduled sends run on a thread of their
// own over a second connection to the same database file. A confirmation queued by a request leaves at
// once (the main thread wakes the thread, without waiting for its poll); a campaign scheduled over the API
// is started and sent by the thread, DKIM-signed, each reader once; closing the app ends the thread.
import { existsSync, statSync } from 'node:fs';
import t from 'tap';
import { authenticate } from 'mailauth';
import { buildApp } from '../src/app.js';
import { createMailThread } from '../src/mail-thread.js';
import { SILENT_LOGGER } from '../src/modules/outbox/outbox.worker.js';
import { until } from './helper.js';
import { newsletterSetup } from './helpers/newsletter.js';

t.test(
  'the mail thread sends what requests queue at once, and the scheduled newsletters, signed; the app ends it when it closes',
  async (t) => {
    // The thread's worker polls once a minute here, so a message that arrives within seconds was woken by its enqueue.
    const world = await newsletterSetup(t, { env: { TIMED_JOB_INTERVAL_MS: '50' } });
    const { sink, services, database, config, run, addReaders } = world;
    services.clusters.update(
      'north-west',
      { sender: { name: 'North West HealthTec', address: 'news@nw.example' } },
      { type: 'cli', label: 'test' },
    );
    const made = JSON.parse((await run('cluster', 'dkim', '--cluster', 'north-west', '--selector', 'nw1', '--json')).stdout) as {
      record: { name: string; value: string };
    };
    const key = services.organisers.create(
      'north-west',
      { email: 'olivia@nw.example', name: 'Olivia' },
      { type: 'cli', label: 'test' },
    ).apiKey;
    const auth = { authorization: `Bearer ${key}` };

    const mail = createMailThread({ services, sqlite: database.sqlite, logger: SILENT_LOGGER, log: false, pollIntervalMs: 60_000 });
    const app = await buildApp({ database, services, logger: false, mailRunner: mail });
    let closed = false;
    t.teardown(async () => {
      if (!closed) await app.close();
    });
    await app.ready();
    await mail.ready();
    t.equal(config.mailThread, true, 'on by default');

    // A sign-up's confirmation: queued by the request, sent by the thread long before its poll.
    const signUp = await app.inject({
      method: 'POST',
      url: '/v1/clusters/north-west/subscriptions',
      payload: { email: 'ada@example.org' },
    });
    t.equal(signUp.statusCode, 202, signUp.body);
    // Unwoken, it would leave at the thread's first poll, a minute after it started (just before the request);
    // woken, at once (under a second; the bound leaves room for a cold start on a machine busy with other tests).
    const waited = await until('the confirmation', () => sink.messages.some((m) => m.envelope.to[0] === 'ada@example.org'), 30_000);
    t.ok(waited < 20_000, `the confirmation left ${waited} ms after the request (the thread was woken)`);
    t.equal(services.scheduler.sending().length, 0);

    // A campaign scheduled over the API: the thread's scheduler starts it and its worker sends it.
    addReaders(25);
    const created = await app.inject({
      method: 'POST',
      url: '/v1/clusters/north-west/campaigns',
      headers: auth,
      payload: { subject: 'Thread news', body: 'Hello {{first_name|there}}.', rate: 200 },
    });
    t.equal(created.statusCode, 201, created.body);
    const id = created.json().id as string;
    const at = new Date(Date.now() + 1_500).toISOString();
    const scheduled = await app.inject({ method: 'POST', url: `/v1/campaigns/${id}/schedule`, headers: auth, payload: { at } });
    t.equal(scheduled.statusCode, 200, scheduled.body);
    const copies = () => sink.messages.filter((m) => m.parsed.subject === 'Thread news');
    await until('the newsletter', () => copies().length === 25, 15_000);
    await until(
      'the campaign to be marked sent',
      () => {
        const row = database.sqlite.prepare('SELECT status FROM campaigns WHERE id = ?').get(id) as { status: string };
        return row.status === 'sent';
      },
      5_000,
    );
    t.equal(new Set(copies().map((m) => m.envelope.to[0])).size, 25, 'each reader once');
    t.same(services.scheduler.sending(), [], "the main thread's scheduler never ran it");
    const started = database.sqlite.prepare("SELECT actor_type AS actor FROM audit_events WHERE action = 'campaign.started'").all();
    t.same(started, [{ actor: 'system' }], 'started by the scheduled send');
    const resolver = async (name: string, type: string) => {
      if (type === 'TXT' && name.toLowerCase() === made.record.name) return [[made.record.value]];
      throw Object.assign(new Error(`no ${type} for ${name}`), { code: 'ENOTFOUND' });
    };
    const checked = await authenticate(Buffer.from(copies()[0]!.raw), {
      ip: '127.0.0.1',
      helo: 'localhost',
      sender: copies()[0]!.envelope.from,
      mta: 'mx.test',
      resolver,
    });
    t.equal(checked.dkim.results[0]?.status.result, 'pass', 'signed on the thread with the cluster key');

    // Closing the app stops the thread (its worker, its scheduler, its connection) before the database closes.
    t.equal(mail.running(), true);
    await app.close();
    closed = true;
    t.equal(mail.running(), false, 'the thread has ended');
    t.notOk(database.sqlite.open, 'the database is closed');
    const wal = `${config.databasePath}-wal`;
    t.ok(!existsSync(wal) || statSync(wal).size === 0, 'the WAL was folded back: the thread had let go of the database first');
  },
);

t.test("the mail thread checkpoints the WAL, so the WAL stays small between the server's commits", async (t) => {
  const world = await newsletterSetup(t);
  const { database, services, config } = world;
  const mail = createMailThread({ services, sqlite: database.sqlite, logger: SILENT_LOGGER, log: false });
  const app = await buildApp({ database, services, logger: false, mailRunner: mail });
  t.teardown(() => app.close());
  await app.ready();
  await mail.ready();
  t.equal(database.sqlite.pragma('wal_autocheckpoint', { simple: true }), 1000, "the server's commits keep SQLite's own as a backstop");

  // 2 MB (500 pages) a round from the server's connection, four rounds two and a half seconds apart. The
  // server's own checkpoint waits for 1,000 pages, so alone the WAL would reach 4 MB; checkpointed by the
  // thread between rounds (once a second: at least twice in each gap), it is reused from its start each round.
  database.sqlite.exec('CREATE TABLE filler (x BLOB)');
  const insert = database.sqlite.prepare('INSERT INTO filler (x) VALUES (randomblob(4000))');
  const wal = `${config.databasePath}-wal`;
  for (let round = 0; round < 4; round++) {
    database.sqlite.transaction(() => {
      for (let i = 0; i < 500; i++) insert.run();
    })();
    await new Promise((resolve) => setTimeout(resolve, 2_500));
  }
  const mb = statSync(wal).size / 2 ** 20;
  t.ok(mb < 3, `the WAL stayed at ${mb.toFixed(1)} MB (8 MB were written)`);
});
