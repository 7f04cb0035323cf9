// The newsletter's brakes against a slow mail server on 127.0.0.1: an unsubscribe during a send is
// honoured up to the instant a copy leaves, and the outbox never holds more than a moment's worth.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { buildApp } from '../src/app.js';
import { projectRoot } from '../src/lib/paths.js';
import { newsletterSetup } from './helpers/newsletter.js';
import { until } from './helper.js';

const CONCURRENCY = 4;
const actor = { type: 'cli' as const, label: 'test' };

/** A cluster with `readers` confirmed newsletter subscribers in a database file, a slow relay, and the app over HTTP. */
async function setup(t: Test, readers: number, delayMs: number) {
  const world = await newsletterSetup(t, {
    delayMs,
    clusterName: 'North West',
    env: { MAIL_CONCURRENCY: String(CONCURRENCY), MAIL_WORKER: 'false', TIMED_JOBS: 'false' },
  });
  const { database, services } = world;
  world.addReaders(readers);
  const app = await buildApp({ database, services, logger: false });
  t.teardown(() => app.close());
  await app.ready();
  const body = world.write('news.md', '# News\n\nHello from the cluster.');
  /** One-click unsubscribe (RFC 8058) over HTTP, as a mail client does it. */
  const unsubscribe = async (subscriberId: string) => {
    const url = new URL(services.subscribers.link('unsubscribe', subscriberId));
    const response = await app.inject({
      method: 'POST',
      url: url.pathname + url.search,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    if (response.statusCode !== 200) t.fail(`unsubscribing answered ${response.statusCode}`);
  };
  const emailOf = (subscriberId: string) =>
    (database.sqlite.prepare('SELECT email FROM subscribers WHERE id = ?').get(subscriberId) as { email: string }).email;
  const newsletterRows = (status: string) =>
    (database.sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE kind = 'newsletter' AND status = ?").get(status) as { n: number }).n;
  return { ...world, body, unsubscribe, emailOf, newsletterRows };
}

t.test('someone who unsubscribes while their copy waits in the outbox does not get it; status counts it as skipped', async (t) => {
  const { sink, services, cluster, run, unsubscribe, emailOf, newsletterRows, database } = await setup(t, 5, 0);
  const campaign = services.campaigns.createDraft(cluster, { subject: 'News', body: 'Hello' }, actor);
  services.campaigns.start(campaign.id, actor);
  const started = services.campaigns.get(campaign.id);
  // Every copy is in the outbox, each checked at hand-over; then two people leave before any is sent.
  t.equal(services.campaigns.enqueueBatch(started, services.campaigns.render(started, cluster), 10), 5);
  const [leaver, switcher] = (
    database.sqlite.prepare('SELECT subscriber_id AS id FROM deliveries ORDER BY id').all() as { id: string }[]
  ).map((row) => row.id);
  await unsubscribe(leaver!);
  services.subscribers.updatePreferences(
    services.subscribers.get(cluster, switcher!),
    cluster,
    { topics: ['huddle-invites'], themes: [] },
    { source: 'email-link' },
  );

  const resumed = await run('newsletter', 'resume', campaign.id, '--json');
  t.equal(resumed.code, 0, resumed.stderr);
  const received = sink.messages.map((m) => m.envelope.to[0]);
  t.notOk(received.includes(emailOf(leaver!)), 'the unsubscribed reader got no copy');
  t.notOk(received.includes(emailOf(switcher!)), 'nor the reader who left the topic');
  t.equal(received.length, 3, 'the others got theirs');
  t.match(JSON.parse(resumed.stdout), { status: 'sent', recipients: 5, sent: 3, skipped: 2, queued: 0 });
  t.equal(newsletterRows('withheld'), 2, 'their outbox rows are withheld, for good');
  const status = JSON.parse((await run('newsletter', 'status', campaign.id, '--json')).stdout);
  t.match(status, { sent: 3, skipped: 2 }, 'status counts the withheld copies as skipped, not sent');
  const reasons = database.sqlite.prepare("SELECT skip_reason AS reason FROM deliveries WHERE status = 'skipped' ORDER BY id").all();
  t.same(reasons, [{ reason: 'unsubscribed' }, { reason: 'left the topic' }]);
});

t.test('a slow relay: readers who unsubscribe 15% of the way through get nothing, and the outbox holds only a moment', async (t) => {
  const RECIPIENTS = 300;
  const RATE = 200;
  const { sink, run, body, unsubscribe, emailOf, newsletterRows, database } = await setup(t, RECIPIENTS, 60);
  const sending = run(
    'newsletter',
    'send',
    '--cluster',
    'north-west',
    '--subject',
    'News',
    '--body',
    body,
    '--yes',
    '--rate',
    String(RATE),
    '--json',
  );
  let done = false;
  void sending.finally(() => (done = true));
  let mostWaiting = 0;
  let leavers: string[] = [];
  while (!done) {
    mostWaiting = Math.max(mostWaiting, newsletterRows('queued') + newsletterRows('sending'));
    if (leavers.length === 0 && sink.messages.length >= RECIPIENTS * 0.15) {
      // The last 30 in the ledger's order: not one of them has been handed to the mail server yet.
      leavers = (
        database.sqlite.prepare('SELECT subscriber_id AS id FROM deliveries ORDER BY id DESC LIMIT 30').all() as { id: string }[]
      ).map((row) => row.id);
      for (const id of leavers) await unsubscribe(id);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const sent = await sending;
  t.equal(sent.code, 0, sent.stderr);
  t.equal(leavers.length, 30, 'thirty readers unsubscribed during the send');
  const received = new Set(sink.messages.map((m) => m.envelope.to[0]));
  t.same(
    leavers.map(emailOf).filter((email) => received.has(email)),
    [],
    'none of them received it',
  );
  t.match(JSON.parse(sent.stdout), { status: 'sent', recipients: RECIPIENTS, sent: RECIPIENTS - 30, skipped: 30, failed: 0 });
  // One tick (200 ms) at the rate, plus two per mail connection: not five seconds' worth.
  const bound = (RATE * 200) / 1000 + 2 * CONCURRENCY;
  t.ok(mostWaiting <= bound, `at most ${bound} newsletter messages waited in the outbox at once (${mostWaiting})`);
});

t.test("Ctrl-C is a brake: after SIGINT only the messages in flight leave, though the server's worker runs too", async (t) => {
  const RECIPIENTS = 400;
  const { sink, env, run, body, services, newsletterRows } = await setup(t, RECIPIENTS, 60);
  // The server's mail worker on the same database, polling often so that it surely takes part.
  const server = services.mail.worker({ pollIntervalMs: 100 });
  server.start();
  t.teardown(() => server.stop());

  const argv = ['newsletter', 'send', '--cluster', 'north-west', '--subject', 'News', '--body', body, '--yes', '--rate', '200', '--json'];
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'scripts/convene.ts'), ...argv], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (sink.messages.length < RECIPIENTS / 4 && child.exitCode === null && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 5));
  child.kill('SIGINT');
  // The CLI takes the signal: it says so, stops its worker and takes the campaign's queued rows back in one
  // write. That write may wait a moment for the lock the server's worker holds, and until it commits that
  // worker may claim what is queued; from the instant it commits (no queued row left; the CLI hands over
  // nothing after the signal), only the messages in flight then may still arrive.
  while (!stderr.includes('stopping') && child.exitCode === null) await new Promise((resolve) => setImmediate(resolve));
  const signalled = Date.now();
  while (newsletterRows('queued') > 0 && child.exitCode === null) await new Promise((resolve) => setImmediate(resolve));
  const atSignal = sink.messages.length;
  const recalledMs = Date.now() - signalled;
  t.ok(recalledMs < 5_000, `the queued rows were taken back ${recalledMs} ms after the signal`);
  t.equal(await exited, 130, `the CLI stopped on Ctrl-C (stderr: ${stderr.slice(0, 300)})`);
  t.match(stderr, /stopping/);
  // Anything still queued would be picked up by the server's worker within this second; then what was in
  // flight is recorded (the sink has counted a message before it answers, so before it is recorded).
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await until('the messages in flight to be recorded', () => newsletterRows('queued') + newsletterRows('sending') === 0);
  const after = sink.messages.length - atSignal;
  // In flight at that instant: at most one message per SMTP connection, the CLI's and the server's.
  t.ok(after <= 2 * CONCURRENCY, `after SIGINT, ${after} more arrived (at most ${2 * CONCURRENCY} were in flight)`);
  t.equal(newsletterRows('queued') + newsletterRows('sending'), 0, 'nothing of the campaign waits in the outbox');
  const report = JSON.parse(stdout) as { campaignId: string; status: string };
  t.equal(report.status, 'paused');
  const status = JSON.parse((await run('newsletter', 'status', report.campaignId, '--json')).stdout);
  t.match(status, { status: 'paused', queued: 0, sent: sink.messages.length });

  await server.stop();
  const resumed = await run('newsletter', 'resume', report.campaignId, '--json');
  t.equal(resumed.code, 0, resumed.stderr);
  t.match(JSON.parse(resumed.stdout), { status: 'sent', sent: RECIPIENTS, pending: 0, queued: 0 });
  const copies = new Set(sink.messages.map((m) => m.envelope.to[0]));
  t.equal(copies.size, RECIPIENTS, 'the resume reached everyone');
  t.equal(sink.messages.length, RECIPIENTS, 'nobody twice');
});
