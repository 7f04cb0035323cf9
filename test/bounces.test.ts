// What comes back after a send: two clusters send newsletters with VERP return paths; a DSN for one
// recipient arrives at the inbound SMTP listener, an ARF complaint for another through `convene mail
// ingest`, a soft bounce through Mailgun's signed webhook, and a reply to the mailto unsubscribe. Exactly
// those people are suppressed (or unsubscribed), the campaign's figures count them, a later newsletter
// from either cluster skips them, organisers list the suppressions and lift one with a note; forged
// and replayed reports change nothing.
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import t from 'tap';
import { runCli } from '../src/cli/index.js';
import { systemClock } from '../src/lib/clock.js';
import { buildTestApp } from './helper.js';
import { newsletterSetup } from './helpers/newsletter.js';
import type { ReceivedMessage } from './helpers/smtp.js';

const RETURN_DOMAIN = 'bounces.convene.test';
const MAILGUN_KEY = 'mailgun-signing-key-for-the-tests';

function dsn(message: ReceivedMessage, to: string, recipient: string, status: string, action = 'failed'): string {
  return [
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.org>',
    `To: ${to}`,
    'Subject: Undelivered Mail Returned to Sender',
    'Auto-Submitted: auto-replied',
    'Message-ID: <report-1@mx.example.org>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain',
    '',
    'Your message could not be delivered.',
    '',
    '--b1',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.org',
    '',
    `Final-Recipient: rfc822; ${recipient}`,
    `Action: ${action}`,
    `Status: ${status}`,
    `Diagnostic-Code: smtp; 550 ${status} <${recipient}>: Recipient address`,
    '    rejected: User unknown in virtual mailbox table',
    '',
    '--b1',
    'Content-Type: text/rfc822-headers',
    '',
    `From: ${message.parsed.from?.text ?? ''}`,
    `To: ${recipient}`,
    `Subject: ${message.parsed.subject ?? ''}`,
    `Message-ID: ${message.parsed.messageId ?? ''}`,
    '',
    '--b1--',
    '',
  ].join('\r\n');
}

/** An abuse report as a feedback loop sends it: to the provider-registered address, quoting the original message. */
function arf(message: ReceivedMessage, recipient: string): string {
  return [
    'From: Feedback Loop <fbl@isp.example>',
    'To: abuse-reports@nw.example',
    'Subject: Abuse report',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="b2"',
    '',
    '--b2',
    'Content-Type: text/plain',
    '',
    'This is an email abuse report.',
    '',
    '--b2',
    'Content-Type: message/feedback-report',
    '',
    'Feedback-Type: abuse',
    'User-Agent: FBL/1.0',
    'Version: 1',
    `Original-Rcpt-To: <${recipient}>`,
    '',
    '--b2',
    'Content-Type: message/rfc822',
    'Content-Disposition: inline',
    '',
    message.raw.split(/\r?\n\r?\n/)[0],
    '',
    '(body removed)',
    '',
    '--b2--',
    '',
  ].join('\r\n');
}

function mailgunSignature(key: string, timestamp = Math.floor(Date.now() / 1000)) {
  const token = randomBytes(25).toString('hex');
  return { timestamp: String(timestamp), token, signature: createHmac('sha256', key).update(`${timestamp}${token}`).digest('hex') };
}

t.test('bounces and complaints through every way in suppress exactly those people, in every cluster', async (t) => {
  const world = await newsletterSetup(t, {
    env: { RETURN_PATH_DOMAIN: RETURN_DOMAIN, SOFT_BOUNCE_LIMIT: '2', MAILGUN_WEBHOOK_SIGNING_KEY: MAILGUN_KEY },
  });
  const { run, sink, subscribe, write, services, database } = world;
  services.clusters.update(
    'north-west',
    { sender: { name: 'North West HealthTec', address: 'news@nw.example' } },
    { type: 'cli', label: 'test' },
  );
  const yorkshire = services.clusters.create({ slug: 'yorkshire', name: 'Yorkshire MedTech' }, { type: 'cli', label: 'test' });
  for (const email of ['ada@example.org', 'grace@example.org', 'linus@example.org', 'mary@example.org']) subscribe(email);
  // Ada and Grace also read Yorkshire's newsletter.
  for (const email of ['ada@example.org', 'grace@example.org']) {
    services.subscribers.signUp(yorkshire, { email }, { source: 'api' });
    services.subscribers.confirm(services.subscribers.findByEmail(yorkshire, email), { source: 'email-link' });
  }

  const sent = await run(
    'newsletter',
    'send',
    '--cluster',
    'north-west',
    '--subject',
    'Winter news',
    '--body',
    write('w.md', 'Hello.\n'),
    '--yes',
  );
  t.equal(sent.code, 0, sent.stderr);
  const copies = Object.fromEntries(
    await Promise.all(
      ['ada', 'grace', 'linus', 'mary'].map(async (name) => [name, await sink.message(`${name}@example.org`, 'Winter news')] as const),
    ),
  );
  const outboxIds = new Map(
    (
      database.sqlite.prepare("SELECT id, to_address AS email FROM outbox WHERE kind = 'newsletter'").all() as {
        id: string;
        email: string;
      }[]
    ).map((row) => [row.email, row.id]),
  );
  for (const [name, copy] of Object.entries(copies)) {
    t.equal(
      copy.envelope.from,
      `bounce+${outboxIds.get(`${name}@example.org`)}@${RETURN_DOMAIN}`,
      `${name}'s copy has its own return path`,
    );
    t.equal(copy.parsed.from?.value[0]?.address, 'news@nw.example', 'the From is still the cluster');
  }
  const listUnsubscribe = String(copies.mary!.parsed.headers.get('list-unsubscribe') ?? '');
  const mailto = /<mailto:(unsub\+[^?>]+)\?subject=unsubscribe>/.exec(copies.mary!.raw.replace(/\r?\n\s+/g, ' '))?.[1];
  t.ok(mailto?.endsWith(`@${RETURN_DOMAIN}`), `List-Unsubscribe offers a mailto at the return-path domain (${listUnsubscribe})`);
  t.ok(mailto!.split('@')[0]!.length <= 64, 'its local part fits SMTP');

  // The server, with its inbound listener and the webhook.
  const { app } = await buildTestApp(t, {
    database,
    clock: systemClock,
    env: {
      SMTP_URL: sink.url,
      DATA_DIR: world.dataDir,
      DATABASE_PATH: join(world.dataDir, 'convene.db'),
      RETURN_PATH_DOMAIN: RETURN_DOMAIN,
      INBOUND_SMTP_PORT: '0',
      SOFT_BOUNCE_LIMIT: '2',
      MAILGUN_WEBHOOK_SIGNING_KEY: MAILGUN_KEY,
    },
  });
  const port = app.inboundMailPort();
  t.ok(port > 0, 'the inbound listener listens');
  const mta = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  t.teardown(() => mta.close());

  // 1. A DSN for Ada, to her copy's return path, through the listener.
  const adaPath = copies.ada!.envelope.from;
  await mta.sendMail({ envelope: { from: '', to: adaPath }, raw: dsn(copies.ada!, adaPath, 'ada@example.org', '5.1.1') });
  // The listener is no relay.
  const relayed = await mta
    .sendMail({ envelope: { from: 'x@example.net', to: 'someone@elsewhere.example' }, raw: 'Subject: relay?\r\n\r\nhi\r\n' })
    .then(
      () => 'accepted',
      (error: { responseCode?: number }) => error.responseCode,
    );
  t.equal(relayed, 550, 'mail for any other domain is refused at RCPT TO');

  // 2. An abuse report about Grace's copy, through `convene mail ingest` (matched by the quoted Message-ID).
  const complaint = await run('mail', 'ingest', write('arf.eml', arf(copies.grace!, 'grace@example.org')), '--json');
  t.equal(complaint.code, 0, complaint.stderr);
  t.match(JSON.parse(complaint.stdout), {
    outcomes: [{ kind: 'complaint', email: 'grace@example.org', result: /suppressed in every cluster/ }],
  });

  // 3. Mailgun says Linus's copy failed for now: counted, not yet suppressed (the limit is 2).
  const event = (severity: string) => ({
    event: 'failed',
    severity,
    recipient: 'linus@example.org',
    message: { headers: { 'message-id': copies.linus!.parsed.messageId!.replace(/[<>]/g, '') } },
    'delivery-status': { code: 452, description: 'Mailbox full' },
  });
  const signature = mailgunSignature(MAILGUN_KEY);
  const webhook = (payload: unknown) => app.inject({ method: 'POST', url: '/webhooks/mailgun', payload: payload as object });
  const soft = await webhook({ signature, 'event-data': event('temporary') });
  t.equal(soft.statusCode, 200, soft.body);
  t.same(soft.json(), { received: 1 }, 'the answer names nobody');
  t.equal((await webhook({ signature, 'event-data': event('temporary') })).json().ignored, 'this request was received already');
  const forged = await webhook({
    signature: { ...mailgunSignature('another-key-entirely-0000'), token: 'x' },
    'event-data': event('permanent'),
  });
  t.equal(forged.statusCode, 401);
  t.equal(forged.json().code, 'WEBHOOK_SIGNATURE_INVALID');
  const stale = await webhook({
    signature: mailgunSignature(MAILGUN_KEY, Math.floor(Date.now() / 1000) - 3600),
    'event-data': event('permanent'),
  });
  t.equal(stale.statusCode, 401, 'an hour-old signature is refused (replay)');
  const malformed = await webhook({ signature: 'nope', 'event-data': [] });
  t.equal(malformed.statusCode, 400);

  // 4. Mary replies to the mailto unsubscribe address.
  await mta.sendMail({ envelope: { from: 'mary@example.org', to: mailto! }, raw: `To: ${mailto}\r\nSubject: unsubscribe\r\n\r\n\r\n` });

  // 5. A forged DSN (no message of ours) and an out-of-office reply to a return path change nothing.
  const forgedPath = `bounce+0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000@${RETURN_DOMAIN}`;
  await mta.sendMail({
    envelope: { from: '', to: forgedPath },
    raw: dsn(copies.linus!, forgedPath, 'linus@example.org', '5.1.1').replace(
      /Message-ID: <[^@]+@convene\.test>/,
      'Message-ID: <nothing@x>',
    ),
  });
  const ooo = await run(
    'mail',
    'ingest',
    write('ooo.eml', `To: ${copies.linus!.envelope.from}\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\n\r\nAway.\r\n`),
  );
  t.match(ooo.stdout, /Nothing to do: an automatic reply/);

  const query = (sql: string, ...args: unknown[]) => database.sqlite.prepare(sql).all(...args) as Record<string, unknown>[];
  t.same(
    query('SELECT email, reason FROM suppressions WHERE cluster_id IS NULL ORDER BY email'),
    [
      { email: 'ada@example.org', reason: 'bounced' },
      { email: 'grace@example.org', reason: 'complained' },
    ],
    'exactly Ada (bounced) and Grace (complained) are suppressed, in every cluster',
  );
  t.same(
    query("SELECT kind, source FROM consent_events WHERE kind IN ('complained', 'unsubscribed') ORDER BY kind"),
    [
      { kind: 'complained', source: 'abuse-report' },
      { kind: 'unsubscribed', source: 'email-reply' },
    ],
    "Grace's complaint is in the consent ledger; Mary left by email",
  );
  t.same(query("SELECT email, status FROM subscribers WHERE cluster_id = ? AND status = 'unsubscribed' ORDER BY email", world.cluster.id), [
    { email: 'grace@example.org', status: 'unsubscribed' },
    { email: 'mary@example.org', status: 'unsubscribed' },
  ]);
  t.same(query('SELECT via, kind FROM bounces ORDER BY via'), [
    { via: 'ingest', kind: 'complaint' },
    { via: 'smtp', kind: 'hard' },
    { via: 'smtp', kind: 'unsubscribe' },
    { via: 'webhook:mailgun', kind: 'soft' },
  ]);

  // The campaign's figures, over the API and on the command line.
  const organiser = services.organisers.create(
    'north-west',
    { email: 'olivia@nw.example', name: 'Olivia' },
    { type: 'cli', label: 'test' },
  );
  const auth = { authorization: `Bearer ${organiser.apiKey}` };
  const [{ id: campaignId }] = query('SELECT id FROM campaigns') as [{ id: string }];
  const campaign = (await app.inject({ method: 'GET', url: `/v1/campaigns/${campaignId}`, headers: auth })).json();
  t.match(campaign.stats, { recipients: 4, sent: 4, bounced: 1, softBounced: 1, complained: 1 });
  const status = await run('newsletter', 'status', campaignId);
  t.match(status.stdout, /since sent: 1 bounced, 1 soft-bounced, 1 complained/);

  // A later newsletter from either cluster skips them.
  const before = sink.messages.length;
  const yorkshireSend = await run(
    'newsletter',
    'send',
    '--cluster',
    'yorkshire',
    '--subject',
    'Spring news',
    '--body',
    write('s.md', 'Hi.\n'),
    '--yes',
  );
  t.match(
    yorkshireSend.stderr,
    /no confirmed subscribers|nobody|0 recipients/i,
    `Yorkshire has nobody left to send to: ${yorkshireSend.stderr}`,
  );
  const northWestSend = await run(
    'newsletter',
    'send',
    '--cluster',
    'north-west',
    '--subject',
    'Spring news',
    '--body',
    write('s.md', 'Hi.\n'),
    '--yes',
  );
  t.equal(northWestSend.code, 0, northWestSend.stderr);
  await sink.waitFor(before + 1);
  t.same(
    sink.messages.slice(before).map((m) => m.envelope.to[0]),
    ['linus@example.org'],
    'only Linus gets either: Ada bounced, Grace complained (both in Yorkshire too), Mary left',
  );

  // Organisers see their own subscribers' suppressions, and lift one with a note.
  const list = await app.inject({ method: 'GET', url: '/v1/clusters/north-west/suppressions', headers: auth });
  t.equal(list.statusCode, 200);
  t.match(list.json().items, [
    { email: 'grace@example.org', scope: 'everywhere', reason: 'complained', detail: 'feedback: abuse' },
    { email: 'ada@example.org', scope: 'everywhere', reason: 'bounced', detail: /5\.1\.1/ },
  ]);
  const lift = (payload: object, cluster = 'north-west') =>
    app.inject({ method: 'POST', url: `/v1/clusters/${cluster}/suppressions/lift`, headers: auth, payload });
  t.equal((await lift({ email: 'ada@example.org', note: '  ' })).json().code, 'VALIDATION_FAILED');
  t.equal((await lift({ email: 'linus@example.org', note: 'asked' })).json().code, 'SUPPRESSION_NOT_FOUND');
  t.equal((await lift({ email: 'ada@example.org', note: 'asked' }, 'yorkshire')).statusCode, 403, "not another cluster's");
  const lifted = await lift({ email: 'ADA@example.org ', note: 'Her mailbox exists again: she phoned' });
  t.equal(lifted.statusCode, 200, lifted.body);
  t.match(lifted.json(), { email: 'ada@example.org', reason: 'bounced', scope: 'everywhere' });
  t.match(query("SELECT after FROM audit_events WHERE action = 'suppression.lifted'"), [{ after: /she phoned/ }]);
  t.equal(services.subscribers.isSuppressed(database.db, yorkshire.id, 'ada@example.org'), false, 'lifted in every cluster');

  // An erased address stays suppressed.
  const mary = services.subscribers.findByEmail(world.cluster, 'mary@example.org');
  services.subscribers.erase(mary, { source: 'organiser' }, { type: 'cli', label: 'test' });
  t.equal((await lift({ email: 'mary@example.org', note: 'please' })).json().code, 'SUPPRESSION_ERASED');
});

t.test('a hard bounce without a return path domain is still matched by the quoted Message-ID; nothing else is', async (t) => {
  let stderrOfTypo = '';
  const world = await newsletterSetup(t);
  const { run, sink, subscribe, write, database } = world;
  subscribe('ada@example.org');
  t.equal(
    (await run('newsletter', 'send', '--cluster', 'north-west', '--subject', 'News', '--body', write('n.md', 'Hi.\n'), '--yes')).code,
    0,
  );
  const copy = await sink.message('ada@example.org', 'News');
  t.equal(copy.envelope.from, 'convene@localhost', 'no return path domain: MAIL_FROM is the envelope sender');
  t.notMatch(copy.raw, /mailto:/, 'and no mailto unsubscribe is offered');

  const unrelated = await run(
    'mail',
    'ingest',
    write('x.eml', 'From: a@b.example\r\nTo: convene@localhost\r\nSubject: hello\r\n\r\nhi\r\n'),
  );
  t.match(unrelated.stdout, /Nothing to do: neither a bounce/);
  const delayed = await run('mail', 'ingest', write('d.eml', dsn(copy, 'convene@localhost', 'ada@example.org', '4.4.1', 'delayed')));
  t.match(delayed.stdout, /Nothing to do: a delivery status of delayed/);
  t.equal((database.sqlite.prepare('SELECT count(*) AS n FROM suppressions').get() as { n: number }).n, 0);

  const dmarc = await run('mail', 'ingest', write('p.eml', dsn(copy, 'convene@localhost', 'ada@example.org', '5.7.26')));
  t.match(dmarc.stdout, /blocked for ada@example.org: recorded: refused by policy/, 'a DMARC refusal says nothing of the address');
  t.equal((database.sqlite.prepare('SELECT count(*) AS n FROM suppressions').get() as { n: number }).n, 0, 'so nobody is suppressed');
  const bounced = await run('mail', 'ingest', write('b.eml', dsn(copy, 'convene@localhost', 'ada@example.org', '5.1.1')));
  t.match(bounced.stdout, /hard for ada@example.org: suppressed in every cluster/);
  const again = await run('mail', 'ingest', write('b.eml', dsn(copy, 'convene@localhost', 'ada@example.org', '5.1.1')));
  t.match(again.stdout, /nothing new: this message was reported already/, 'the same report twice counts once');
  // A mailbox's pipe with the wrong DATA_DIR must not act on an empty database: exit 75, the mail server retries.
  const elsewhere = await runCli(['mail', 'ingest', write('c.eml', 'To: x@y.example\r\n\r\nhi\r\n')], {
    env: { ...world.env, DATA_DIR: join(world.dataDir, 'typo') },
    io: { stdout: () => undefined, stderr: (text) => (stderrOfTypo += text), isTTY: false },
  });
  t.equal(elsewhere, 75);
  t.match(stderrOfTypo, /there is no database at .*typo.*check DATA_DIR/);
  t.notOk(existsSync(join(world.dataDir, 'typo')), 'and no empty database was made');
  const missing = await run('mail', 'ingest', join(world.dataDir, 'no-such.eml'));
  t.equal(missing.code, 1);
  t.match(missing.stderr, /cannot read/);
  t.match(
    (await run('subscribers', 'suppressions', '--cluster', 'north-west')).stdout,
    /ada@example\.org {2}bounced \(every cluster\) {2}5\.1\.1/,
  );
});

t.test('each way in takes both a bounce and a complaint', async (t) => {
  const world = await newsletterSetup(t, { env: { RETURN_PATH_DOMAIN: RETURN_DOMAIN, MAILGUN_WEBHOOK_SIGNING_KEY: MAILGUN_KEY } });
  const { run, sink, subscribe, write, database } = world;
  const people = ['l1', 'l2', 'i1', 'i2', 'w1', 'w2'];
  for (const name of people) subscribe(`${name}@example.org`);
  t.equal(
    (await run('newsletter', 'send', '--cluster', 'north-west', '--subject', 'News', '--body', write('n.md', 'Hi.\n'), '--yes')).code,
    0,
  );
  const copy = Object.fromEntries(
    await Promise.all(people.map(async (name) => [name, await sink.message(`${name}@example.org`, 'News')] as const)),
  );
  const { app } = await buildTestApp(t, {
    database,
    clock: systemClock,
    env: {
      DATA_DIR: world.dataDir,
      DATABASE_PATH: join(world.dataDir, 'convene.db'),
      RETURN_PATH_DOMAIN: RETURN_DOMAIN,
      INBOUND_SMTP_PORT: '0',
      MAILGUN_WEBHOOK_SIGNING_KEY: MAILGUN_KEY,
    },
  });
  const mta = nodemailer.createTransport({ host: '127.0.0.1', port: app.inboundMailPort(), secure: false, ignoreTLS: true });
  t.teardown(() => mta.close());

  // The listener: a DSN to the return path; an ARF report to a feedback address at the return-path domain.
  await mta.sendMail({
    envelope: { from: '', to: copy.l1!.envelope.from },
    raw: dsn(copy.l1!, copy.l1!.envelope.from, 'l1@example.org', '5.1.1'),
  });
  await mta.sendMail({ envelope: { from: '', to: `fbl@${RETURN_DOMAIN}` }, raw: arf(copy.l2!, 'l2@example.org') });
  // The command line.
  t.equal((await run('mail', 'ingest', write('i1.eml', dsn(copy.i1!, copy.i1!.envelope.from, 'i1@example.org', '5.2.1')))).code, 0);
  t.equal((await run('mail', 'ingest', write('i2.eml', arf(copy.i2!, 'i2@example.org')))).code, 0);
  // Mailgun.
  for (const [name, event] of [
    ['w1', { event: 'failed', severity: 'permanent', 'delivery-status': { code: 550, description: 'No such user' } }],
    ['w2', { event: 'complained' }],
  ] as const) {
    const answer = await app.inject({
      method: 'POST',
      url: '/webhooks/mailgun',
      payload: {
        signature: mailgunSignature(MAILGUN_KEY),
        'event-data': { ...event, recipient: `${name}@example.org`, message: { headers: { 'message-id': copy[name]!.parsed.messageId } } },
      },
    });
    t.same(answer.json(), { received: 1 }, `Mailgun's ${event.event}`);
  }

  t.same(database.sqlite.prepare('SELECT email, reason FROM suppressions ORDER BY email').all(), [
    { email: 'i1@example.org', reason: 'bounced' },
    { email: 'i2@example.org', reason: 'complained' },
    { email: 'l1@example.org', reason: 'bounced' },
    { email: 'l2@example.org', reason: 'complained' },
    { email: 'w1@example.org', reason: 'bounced' },
    { email: 'w2@example.org', reason: 'complained' },
  ]);
  t.match((await run('newsletter', 'list', '--cluster', 'north-west', '--json')).stdout, /"bounced": 3[\s\S]*"complained": 3/);
});
