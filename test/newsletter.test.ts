// `convene newsletter`: the organiser's script against a real SMTP server on 127.0.0.1.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import t, { type Test } from 'tap';
import { hasStopped, thisProcess } from '../src/lib/processes.js';
import { newsletterSetup } from './helpers/newsletter.js';

const BODY = `# Winter news

Three things from **North West HealthTec**:

- a new [member directory](https://example.org/members)
- <script>alert('x')</script> stays text
- [a bad link](javascript:alert(1))
`;

async function setup(t: Test) {
  const world = await newsletterSetup(t, { env: { MAIL_FROM: 'North West <news@convene.test>' } });
  const body = world.write('winter.md', BODY);
  // Confirmation emails of the sign-ups above are in the outbox too; the CLI's worker sends them along.
  const newsletters = () => world.sink.messages.filter((m) => m.parsed.subject === 'Winter news');
  return { ...world, body, newsletters };
}

t.test('each confirmed subscriber of the topic gets exactly one copy, with one-click unsubscribe headers', async (t) => {
  const { subscribe, run, body, newsletters, services, cluster } = await setup(t);
  for (const name of ['ada', 'bob', 'cat']) subscribe(`${name}@example.org`);
  subscribe('invites-only@example.org', { topics: ['huddle-invites'] });
  subscribe('pending@example.org', { confirm: false });
  const leaver = subscribe('leaver@example.org');
  services.subscribers.unsubscribe(services.subscribers.get(cluster, leaver), { source: 'one-click' });
  const erased = subscribe('erased@example.org');
  services.subscribers.erase(services.subscribers.get(cluster, erased), { source: 'organiser' }, { type: 'cli', label: 'test' });

  const dry = await run('newsletter', 'send', '--cluster', 'north-west', '--subject', 'Winter news', '--body', body, '--dry-run', '--json');
  t.equal(dry.code, 0, dry.stderr);
  t.match(JSON.parse(dry.stdout), { dryRun: true, recipients: 3 });
  t.same(JSON.parse((await run('newsletter', 'list', '--cluster', 'north-west', '--json')).stdout), [], 'a dry run writes nothing');

  const refused = await run('newsletter', 'send', '--cluster', 'north-west', '--subject', 'Winter news', '--body', body);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /add --yes/, 'no terminal to confirm on: --yes is needed');

  const sent = await run(
    'newsletter',
    'send',
    '--cluster',
    'north-west',
    '--subject',
    'Winter news',
    '--body',
    body,
    '--yes',
    '--rate',
    '100',
    '--json',
  );
  t.equal(sent.code, 0, sent.stderr);
  const report = JSON.parse(sent.stdout);
  t.match(report, { status: 'sent', recipients: 3, sent: 3, failed: 0, pending: 0 });
  const recipients = newsletters()
    .map((m) => m.envelope.to[0])
    .sort();
  t.same(
    recipients,
    ['ada@example.org', 'bob@example.org', 'cat@example.org'],
    'one copy each; pending, unsubscribed, erased and other topics got none',
  );

  const message = newsletters().find((m) => m.envelope.to[0] === 'ada@example.org')!;
  const unsubscribeHeaders = message.raw.split(/\r?\n(?=\S)/).filter((line) => /^List-Unsubscribe:/i.test(line));
  t.equal(unsubscribeHeaders.length, 1, 'one List-Unsubscribe header');
  const line = (key: string) => message.parsed.headerLines.filter((h) => h.key === key).map((h) => h.line.replace(/\r?\n\s+/g, ' '));
  t.equal(line('list-unsubscribe').length, 1, 'mailparser sees one List-Unsubscribe header');
  t.match(
    line('list-unsubscribe')[0],
    /^List-Unsubscribe: <https:\/\/convene\.test\/unsubscribe\?token=[^>]+>$/,
    'the https one-click address only: no mailto to an address nothing reads',
  );
  const parsedList = message.parsed.headers.get('list') as { unsubscribe?: { url?: string; mail?: string } };
  t.match(parsedList.unsubscribe, { url: /^https:\/\/convene\.test\/unsubscribe\?token=/ }, 'mailparser reads the URI');
  t.notOk(parsedList.unsubscribe?.mail, 'no mailto:');
  t.same(line('list-unsubscribe-post'), ['List-Unsubscribe-Post: List-Unsubscribe=One-Click']);
  t.match(line('list-id')[0], /^List-Id: North West HealthTec <north-west\.convene\.test>$/i);
  t.match(message.parsed.text, /^Winter news\n\nThree things from North West HealthTec:/, 'the text part is plain text');
  t.match(message.parsed.html as string, /<h1>Winter news<\/h1>/);
  t.match(message.parsed.html as string, /<a href="https:\/\/example\.org\/members">member directory<\/a>/);
  t.notMatch(message.parsed.html as string, /<script>/, 'HTML in the Markdown is escaped');
  t.notMatch(message.parsed.html as string, /href="javascript:/i, 'no javascript: links');

  const status = JSON.parse((await run('newsletter', 'status', report.campaignId, '--json')).stdout);
  t.match(status, { status: 'sent', sent: 3, queued: 0, failed: 0, skipped: 0 });
  const again = await run('newsletter', 'resume', report.campaignId, '--json');
  t.equal(newsletters().length, 3, 'resuming a finished campaign mails nobody again');
  t.not(again.code, 0);
});

t.test('--test-to sends one copy and nothing else; at send time, leavers are skipped', async (t) => {
  const { subscribe, run, body, sink, services, cluster, newsletters } = await setup(t);
  subscribe('ada@example.org');
  const test = await run(
    'newsletter',
    'send',
    '--cluster',
    'north-west',
    '--subject',
    'Winter news',
    '--body',
    body,
    '--test-to',
    'editor@example.org',
  );
  t.equal(test.code, 0, test.stderr);
  const copies = sink.messages.filter((m) => m.parsed.subject === '[Test] Winter news');
  t.same(
    copies.map((m) => m.envelope.to[0]),
    ['editor@example.org'],
  );
  t.equal(newsletters().length, 0);

  // A campaign snapshotted with two recipients, one of whom leaves before their turn.
  const bob = subscribe('bob@example.org');
  const campaign = services.campaigns.createDraft(cluster, { subject: 'Winter news', body: 'Hello' }, { type: 'cli', label: 'test' });
  services.campaigns.start(campaign.id, { type: 'cli', label: 'test' });
  services.subscribers.unsubscribe(services.subscribers.get(cluster, bob), { source: 'one-click' });
  const resumed = await run('newsletter', 'resume', campaign.id, '--json');
  t.equal(resumed.code, 0, resumed.stderr);
  t.match(JSON.parse(resumed.stdout), { sent: 1, skipped: 1 });
  t.same(
    newsletters().map((m) => m.envelope.to[0]),
    ['ada@example.org'],
  );
});

t.test('a message refused for good is failed; a refused message says nothing of the address, a refused recipient does', async (t) => {
  {
    const { subscribe, run, sink, services, cluster, database } = await setup(t);
    subscribe('content@example.org');
    const campaign = services.campaigns.createDraft(cluster, { subject: 'Spam?', body: 'Hello' }, { type: 'cli', label: 'test' });
    services.campaigns.start(campaign.id, { type: 'cli', label: 'test' });
    database.sqlite.prepare("UPDATE outbox SET status = 'sent' WHERE kind LIKE 'subscription.%'").run();
    sink.setBehaviour('perm'); // 550 at DATA: the message, not the recipient
    const resumed = await run('newsletter', 'resume', campaign.id, '--json');
    t.match(JSON.parse(resumed.stdout), { failed: 1, sent: 0 });
    t.notOk(services.subscribers.isSuppressed(database.db, cluster.id, 'content@example.org'), 'a refused message suppresses nobody');
    sink.setBehaviour('ok');
  }
  const { subscribe, run, sink, services, cluster, database } = await setup(t);
  subscribe('gone@example.org');
  // Let the CLI's worker deliver the sign-up's confirmation first, then refuse the newsletter for good.
  const campaign = services.campaigns.createDraft(cluster, { subject: 'Winter news', body: 'Hello' }, { type: 'cli', label: 'test' });
  services.campaigns.start(campaign.id, { type: 'cli', label: 'test' });
  database.sqlite.prepare("UPDATE outbox SET status = 'sent' WHERE kind LIKE 'subscription.%'").run();
  sink.setBehaviour('unknown-user');
  const resumed = await run('newsletter', 'resume', campaign.id, '--json');
  t.equal(resumed.code, 0, resumed.stderr);
  t.match(JSON.parse(resumed.stdout), { failed: 1, sent: 0, bounced: 0 });
  t.ok(services.subscribers.isSuppressed(database.db, cluster.id, 'gone@example.org'), 'suppressed after 550 5.1.1 at RCPT TO');
  sink.setBehaviour('ok');
  const preview = services.campaigns.preview(cluster, { subject: 'Next', body: 'Hello again' });
  t.equal(preview.recipients, 0, 'not a recipient of the next newsletter');
});

t.test('resume takes back only the claims of a sender that has stopped; a live one keeps its messages', async (t) => {
  const { subscribe, services, cluster, database } = await setup(t);
  for (const name of ['ada', 'bob', 'cat']) subscribe(`${name}@example.org`);
  database.sqlite.prepare("UPDATE outbox SET status = 'sent'").run(); // the sign-ups' confirmations
  const campaign = services.campaigns.createDraft(cluster, { subject: 'Winter news', body: 'Hello' }, { type: 'cli', label: 'test' });
  services.campaigns.start(campaign.id, { type: 'cli', label: 'test' });
  const started = services.campaigns.get(campaign.id);
  t.equal(services.campaigns.enqueueBatch(started, services.campaigns.render(started, cluster), 10), 3);
  const claimed = services.outbox.claim(10, 60_000);
  t.equal(claimed.length, 3);
  t.same(new Set(claimed.map((row) => row.claimedBy)), new Set([thisProcess]), 'a claim names the process');

  // One claim of a sender on this host that has exited, one of a process on another host, one of this live process.
  const exited = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => exited.once('exit', resolve));
  const [dead, elsewhere, live] = claimed.map((row) => row.id);
  const setClaimer = database.sqlite.prepare('UPDATE outbox SET claimed_by = ? WHERE id = ?');
  setClaimer.run(`${hostname()}:${exited.pid}`, dead);
  setClaimer.run('another-host:1', elsewhere);
  t.same(services.campaigns.releaseInterrupted(campaign.id), { released: 1, heldByLiveProcess: 2 });
  const statusOf = (id: string | undefined) =>
    (database.sqlite.prepare('SELECT status FROM outbox WHERE id = ?').get(id) as { status: string }).status;
  t.equal(statusOf(dead), 'queued', "the exited sender's message is queued again");
  t.equal(statusOf(elsewhere), 'sending', "another host's claim is left to its lease");
  t.equal(statusOf(live), 'sending', 'a live sender keeps its message');
});

t.test('hasStopped: only a process of this host that no longer exists', async (t) => {
  const exited = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => exited.once('exit', resolve));
  t.equal(hasStopped(`${hostname()}:${exited.pid}`), true);
  t.equal(hasStopped(thisProcess), false);
  t.equal(hasStopped(`${hostname()}:1`), false, 'pid 1 runs (or is not ours to signal)');
  t.equal(hasStopped(`another-host:${exited.pid}`), false);
  for (const holder of [null, '', 'garbage', `${hostname()}:`, `${hostname()}:-5`, `${hostname()}:1.5`])
    t.equal(hasStopped(holder), false, String(holder));
});

t.test('a Markdown file that is not UTF-8 is refused before anything is written (issue 11, item 6)', async (t) => {
  const { run, body } = await setup(t);
  const latin1 = body.replace(/\.md$/, '') + '-latin1.md';
  writeFileSync(latin1, Buffer.from('# Winter news\n\nGr\xfc\xdfe aus Z\xfcrich\n', 'latin1'));
  const refused = await run('newsletter', 'send', '--cluster', 'north-west', '--subject', 'Winter news', '--body', latin1, '--dry-run');
  t.equal(refused.code, 1);
  t.match(refused.stderr, /-latin1\.md is not UTF-8 text \(line 3 is the first with other bytes\)/);
  t.same(JSON.parse((await run('newsletter', 'list', '--cluster', 'north-west', '--json')).stdout), [], 'no campaign written');
});
