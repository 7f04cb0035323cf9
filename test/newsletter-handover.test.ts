// `newsletter send` and `newsletter resume` while a server runs on the same database: the server's
// scheduler sends the campaign and the command line follows it, so the server's requests never wait
// for a second process's write lock. Ctrl-C of the command line pauses the send on the server; resume
// hands it back; `--here` still sends from the command line; a server that has gone is not handed anything.
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import t, { type Test } from 'tap';
import { buildApp } from '../src/app.js';
import { createMailThread } from '../src/mail-thread.js';
import { SILENT_LOGGER } from '../src/modules/outbox/outbox.worker.js';
import { until } from './helper.js';
import { newsletterSetup, sendArgv, spawnConvene } from './helpers/newsletter.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A server on the test's database: the app and its mail thread, whose scheduler announces itself as a sender. */
async function startServer(t: Test, world: Awaited<ReturnType<typeof newsletterSetup>>) {
  const mail = createMailThread({ services: world.services, sqlite: world.database.sqlite, logger: SILENT_LOGGER, log: false });
  const app = await buildApp({ database: world.database, services: world.services, logger: false, mailRunner: mail });
  t.teardown(() => app.close());
  await app.ready();
  await mail.ready();
  await until('the server to announce itself', () => world.services.campaigns.senders.live() !== undefined, 5_000);
  return app;
}

t.test('newsletter send hands the campaign to the running server and follows it to the end', async (t) => {
  const world = await newsletterSetup(t); // TIMED_JOB_INTERVAL_MS stays 30 s: the scheduler looks every second
  const { sink, database, run } = world;
  await startServer(t, world);
  world.addReaders(40);
  const body = world.write('news.md', '# News\n\nHello {{first_name|there}}.');

  const sent = await run('newsletter', 'send', '--cluster', 'north-west', '--subject', 'Handed', '--body', body, '--rate', '200', '--yes');
  t.equal(sent.code, 0, sent.stderr);
  t.match(sent.stdout, /the server \(.+:\d+\) sends it to 40 subscribers/);
  t.match(sent.stdout, /40 sent, 0 queued, 0 waiting, 0 failed, 0 skipped of 40/);
  const copies = sink.messages.filter((m) => m.parsed.subject === 'Handed');
  t.equal(copies.length, 40);
  t.equal(new Set(copies.map((m) => m.envelope.to[0])).size, 40, 'each reader once');
  const actions = database.sqlite
    .prepare("SELECT action, actor_type AS actor FROM audit_events WHERE target_type = 'campaign' ORDER BY rowid")
    .all();
  t.same(
    actions,
    [
      { action: 'campaign.created', actor: 'cli' },
      { action: 'campaign.scheduled', actor: 'cli' },
      { action: 'campaign.started', actor: 'system' },
    ],
    "scheduled now by the command line, started by the server's scheduler",
  );

  // --here: this process sends, server or not.
  const here = await run(
    'newsletter',
    'send',
    '--cluster',
    'north-west',
    '--subject',
    'Here',
    '--body',
    body,
    '--rate',
    '200',
    '--yes',
    '--here',
  );
  t.equal(here.code, 0, here.stderr);
  t.notMatch(here.stdout, /the server/);
  const started = database.sqlite
    .prepare("SELECT actor_type AS actor FROM audit_events WHERE action = 'campaign.started' ORDER BY rowid")
    .all();
  t.same(started.at(-1), { actor: 'cli' }, 'started by the command line itself');
  t.equal(sink.messages.filter((m) => m.parsed.subject === 'Here').length, 40);
});

t.test(
  'Ctrl-C of a command line following a send pauses it on the server; resume hands it back; nobody gets two',
  { timeout: 120_000 },
  async (t) => {
    const world = await newsletterSetup(t);
    const { sink, database, env, run } = world;
    const app = await startServer(t, world);
    world.addReaders(200);
    const body = world.write('news.md', '# News\n\nHello.');

    // The command line as a real process of its own, as an organiser runs it.
    const child = spawnConvene(env, sendArgv('Paused', body, '--rate', '20', '--yes'));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const copies = () => sink.messages.filter((m) => m.parsed.subject === 'Paused');
    await until('the server to send some', () => copies().length >= 20, 60_000);
    child.kill('SIGINT');
    t.equal(await exited, 130, `${stdout}\n${stderr}`);
    t.match(stderr, /pausing the send on the server/);
    t.match(stdout, /Stopped\. Carry on with: convene newsletter resume (\S+)/);
    const id = /resume (\S+)/.exec(stdout)![1]!;
    const row = () => database.sqlite.prepare('SELECT status FROM campaigns WHERE id = ?').get(id) as { status: string };
    t.equal(row().status, 'paused');
    // What was in flight at the pause is recorded (the sink counts a message before it answers).
    const inFlight = () =>
      (
        database.sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE kind = 'newsletter' AND status IN ('queued', 'sending')").get() as {
          n: number;
        }
      ).n;
    await until('the sends in flight at the pause to end', () => inFlight() === 0);
    const atPause = copies().length;
    await sleep(2_000);
    t.equal(copies().length, atPause, `nothing more left the server after the pause (${atPause} of 200)`);

    const resumed = await run('newsletter', 'resume', id);
    t.equal(resumed.code, 0, resumed.stderr);
    t.match(resumed.stdout, /the server \(.+\) carries on with it/);
    t.match(resumed.stdout, /200 sent, 0 queued, 0 waiting, 0 failed, 0 skipped of 200/);
    t.equal(row().status, 'sent');
    t.equal(copies().length, 200);
    t.equal(new Set(copies().map((m) => m.envelope.to[0])).size, 200, 'each reader exactly once');

    // Over the API, the same resume: refused for a campaign that has been sent.
    const olivia = world.services.organisers.create(
      'north-west',
      { email: 'olivia@nw.example', name: 'Olivia' },
      { type: 'cli', label: 'test' },
    );
    const again = await app.inject({
      method: 'POST',
      url: `/v1/campaigns/${id}/resume`,
      headers: { authorization: `Bearer ${olivia.apiKey}` },
    });
    t.equal(again.statusCode, 409);
    t.equal(again.json().code, 'CAMPAIGN_NOT_SENDING');
  },
);

t.test('a server that has exited or gone silent is not handed a send', async (t) => {
  const world = await newsletterSetup(t);
  const { services, database, run, sink } = world;
  // A process that has exited (on this host), heard of just now; and a live one silent for a minute.
  const gone = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => gone.on('exit', resolve));
  const now = Date.now();
  const insert = database.sqlite.prepare('INSERT INTO campaign_senders (process, started_at, heartbeat_at) VALUES (?, ?, ?)');
  insert.run(`${hostname()}:${gone.pid}`, now, now);
  insert.run(`${hostname()}:${process.ppid}`, now - 60_000, now - 60_000);
  t.equal(services.campaigns.senders.live(), undefined);
  world.addReaders(3);
  const body = world.write('news.md', 'Hello.');
  const sent = await run('newsletter', 'send', '--cluster', 'north-west', '--subject', 'Alone', '--body', body, '--yes');
  t.equal(sent.code, 0, sent.stderr);
  t.notMatch(sent.stdout, /the server/, 'sent from the command line');
  t.equal(sink.messages.filter((m) => m.parsed.subject === 'Alone').length, 3);
});

t.test(
  'a server that takes nothing up: Ctrl-C before it starts, or 15 s of waiting, takes the draft back',
  { timeout: 60_000 },
  async (t) => {
    const world = await newsletterSetup(t);
    const { database, env, sink } = world;
    // This process says it sends campaigns, but runs no scheduler: nothing will take the campaign up.
    const now = Date.now();
    database.sqlite
      .prepare('INSERT INTO campaign_senders (process, started_at, heartbeat_at) VALUES (?, ?, ?)')
      .run(`${hostname()}:${process.pid}`, now, now + 60_000);
    world.addReaders(5);
    const body = world.write('news.md', 'Hello.');
    const drafts = () =>
      database.sqlite.prepare('SELECT subject, status, scheduled_at AS at FROM campaigns ORDER BY created_at').all() as {
        subject: string;
        status: string;
        at: number | null;
      }[];

    const child = spawnConvene(env, sendArgv('Stopped', body, '--yes'));
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await until('the hand-over', () => /the server \(.+\) sends it/.test(output), 30_000);
    child.kill('SIGINT');
    t.equal(await exited, 1, output);
    t.match(output, /not sent: stopped before the server started it/);
    t.same(drafts(), [{ subject: 'Stopped', status: 'draft', at: null }], 'a draft again, no longer due');

    const started = Date.now();
    const waited = await world.run(...sendArgv('Waited', body, '--yes'));
    t.equal(waited.code, 1);
    t.match(waited.stderr, /has not taken up campaign \S+ within 15 s; it stays a draft/);
    t.ok(Date.now() - started >= 15_000, 'after 15 s');
    t.same(drafts()[1], { subject: 'Waited', status: 'draft', at: null });
    t.equal(sink.messages.length, 0, 'nothing was sent');
  },
);

t.test('a campaign another process has taken over: its first sender stops, and resume --here is refused', async (t) => {
  const world = await newsletterSetup(t);
  const { services, database, run } = world;
  world.addReaders(3);
  const campaign = services.campaigns.createDraft(world.cluster, { subject: 'Taken', body: 'Hello.' }, { type: 'cli', label: 'test' });
  services.campaigns.start(campaign.id, { type: 'cli', label: 'test' });
  t.equal(services.campaigns.isSending(campaign.id), true);
  // A server elsewhere took it over (a resume through the server, while this process had not seen a pause).
  database.sqlite
    .prepare('UPDATE campaigns SET sender = ?, heartbeat_at = ? WHERE id = ?')
    .run('elsewhere.example:4242', Date.now(), campaign.id);
  t.equal(services.campaigns.isSending(campaign.id), false, 'this process stops sending it within a tick');
  services.campaigns.heartbeat(campaign.id);
  t.equal(
    (database.sqlite.prepare('SELECT sender FROM campaigns WHERE id = ?').get(campaign.id) as { sender: string }).sender,
    'elsewhere.example:4242',
    'and its heartbeat does not take it back',
  );
  t.throws(() => services.campaigns.start(campaign.id, { type: 'cli', label: 'test' }), { code: 'CAMPAIGN_STARTED' });
  const here = await run('newsletter', 'resume', campaign.id, '--here');
  t.equal(here.code, 1);
  t.match(here.stderr, /elsewhere\.example:4242 is sending this campaign now/);
});
