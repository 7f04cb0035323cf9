// The outbox end to end: rows written in transactions, sent by the worker to a real SMTP server or to .eml files.
import { getEventListeners } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import ICAL from 'ical.js';
import { simpleParser } from 'mailparser';
import t from 'tap';
import { loadConfig, type Config } from '../src/config.js';
import { closeDatabase, immediate, migrateDatabase, openDatabase } from '../src/db/client.js';
import { outbox as outboxTable } from '../src/db/schema.js';
import { manualClock, systemClock } from '../src/lib/clock.js';
import { renderEmail } from '../src/lib/email-layout.js';
import { createOutbox, type ComposedBody, type OutgoingMessage } from '../src/modules/outbox/outbox.service.js';
import { abortedBy, createTransport } from '../src/modules/outbox/outbox.transport.js';
import { createMailWorker, type MailLogger, type MailTransport } from '../src/modules/outbox/outbox.worker.js';
import mailer from '../src/plugins/mailer.js';
import { siteOf } from '../src/shared/site.js';
import { startSmtpSink } from './helpers/smtp.js';

const quiet: MailLogger = { debug() {}, info() {}, warn() {}, error() {} };
const LEASE_MS = 60_000;
const MAX_BACKOFF_MS = 10_000;

const INVITE = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//Convene//Tests//EN',
  'METHOD:REQUEST',
  'BEGIN:VEVENT',
  'UID:huddle-1@convene.example.org',
  'SEQUENCE:0',
  'DTSTAMP:20260302T090000Z',
  'DTSTART:20260310T140000Z',
  'DTEND:20260310T150000Z',
  'SUMMARY:March huddle',
  'ORGANIZER:mailto:convene@example.org',
  'ATTENDEE:mailto:ann@example.org',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

function message(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return { kind: 'test.hello', to: 'Ann <ann@example.org>', subject: 'Hello', text: 'Hello Ann', html: '<p>Hello Ann</p>', ...overrides };
}

function configFor(dataDir: string, smtpUrl?: string): Config {
  return loadConfig({
    DATA_DIR: dataDir,
    PUBLIC_BASE_URL: 'https://convene.example.org',
    MAIL_FROM: 'Convene <convene@example.org>',
    ...(smtpUrl ? { SMTP_URL: smtpUrl } : {}),
  });
}

/** All setup needs from a tap test. */
type T = { teardown(fn: () => unknown): void };

async function setup(t: T, opts: { failures?: ('temp' | 'perm')[]; smtp?: boolean } = {}) {
  const { db, sqlite } = openDatabase(':memory:');
  migrateDatabase(db);
  const clock = manualClock('2026-03-02T09:00:00Z');
  const sink = await startSmtpSink(t, { failures: opts.failures ?? [] });
  const dataDir = await mkdtemp(join(tmpdir(), 'convene-outbox-'));
  const config = configFor(dataDir, opts.smtp === false ? undefined : sink.url);
  const transport = createTransport(config);
  const outbox = createOutbox({ db, clock, from: config.mailFrom, messageIdDomain: siteOf(config).messageIdDomain });
  const worker = (via: MailTransport = transport) =>
    createMailWorker({
      outbox,
      transport: via,
      clock,
      logger: quiet,
      concurrency: 2,
      maxAttempts: 4,
      leaseMs: LEASE_MS,
      backoff: { baseMs: 1_000, maxMs: MAX_BACKOFF_MS },
    });
  t.teardown(async () => {
    transport.close();
    closeDatabase(sqlite);
    await rm(dataDir, { recursive: true, force: true });
  });
  const rows = () => db.select().from(outboxTable).all();
  const enqueue = (m: OutgoingMessage) => immediate(db, (tx) => outbox.enqueue(tx, m));
  return { db, clock, sink, config, transport, outbox, worker, rows, enqueue };
}

t.test('a message is delivered once, with its Message-ID, both bodies and a matching calendar method', async (t) => {
  const { sink, worker, rows, enqueue } = await setup(t);
  enqueue(
    message({ kind: 'huddle.invitation', calendar: { method: 'REQUEST', content: INVITE }, headers: { 'X-Convene-Kind': 'invitation' } }),
  );
  const w = worker();
  await w.drain();
  await w.drain();

  const [row] = rows();
  t.equal(sink.messages.length, 1, 'exactly one message arrived');
  t.match(row, { status: 'sent', attempts: 1, lastError: null });
  t.match(row?.messageId, /^<[0-9a-f-]{36}@convene\.example\.org>$/);
  t.match(row?.smtpResponse, /^250/);

  const received = sink.messages[0]!;
  t.equal(received.parsed.messageId, row?.messageId);
  t.same(received.envelope.to, ['ann@example.org']);
  t.equal(received.parsed.text?.trim(), 'Hello Ann');
  t.equal(received.parsed.html, '<p>Hello Ann</p>');
  t.equal(received.parsed.headers.get('x-convene-kind'), 'invitation');

  const calendarPart = received.parsed.attachments.find((a) => a.contentType === 'text/calendar');
  t.ok(calendarPart, 'has a text/calendar part');
  const contentType = calendarPart?.headers.get('content-type') as { params: Record<string, string> } | undefined;
  t.equal(contentType?.params.method, 'REQUEST', 'MIME method= is REQUEST');
  const calendar = new ICAL.Component(ICAL.parse(calendarPart!.content.toString('utf8')));
  t.equal(calendar.getFirstPropertyValue('method'), 'REQUEST', 'the calendar says REQUEST too');
});

t.test('a 451 is retried after a backoff and the message arrives once', async (t) => {
  const { sink, clock, worker, rows, enqueue } = await setup(t, { failures: ['temp'] });
  enqueue(message());
  const w = worker();
  await w.drain();
  t.match(rows()[0], { status: 'queued', attempts: 1, lastError: /451/ });
  t.equal(sink.messages.length, 0);

  await w.drain();
  t.equal(rows()[0]?.attempts, 1, 'not retried before its time');

  clock.advance(MAX_BACKOFF_MS);
  await w.drain();
  t.match(rows()[0], { status: 'sent', attempts: 2, lastError: null });
  t.equal(sink.messages.length, 1);
});

t.test('a 550 is recorded as a permanent failure and not retried', async (t) => {
  const { sink, clock, worker, rows, enqueue, outbox } = await setup(t, { failures: ['perm'] });
  enqueue(message());
  const w = worker();
  await w.drain();
  clock.advance(24 * 60 * 60_000);
  await w.drain();
  t.match(rows()[0], { status: 'failed', attempts: 1, lastError: /550/ });
  t.equal(sink.messages.length, 0);
  t.same(outbox.backlog(), { queued: 0, sending: 0, failed: 1 });
});

t.test('temporary failures give up after the last attempt', async (t) => {
  const { sink, clock, worker, rows, enqueue } = await setup(t);
  sink.setBehaviour('temp');
  enqueue(message());
  const w = worker();
  for (let i = 0; i < 6; i++) {
    await w.drain();
    clock.advance(MAX_BACKOFF_MS);
  }
  t.match(rows()[0], { status: 'failed', attempts: 4, lastError: /gave up after 4 attempts: .*451/ });
});

t.test('rows queued while the SMTP server is down are all delivered once it is back', async (t) => {
  const { sink, clock, worker, rows, enqueue, outbox } = await setup(t);
  const w = worker();
  enqueue(message({ subject: 'before' }));
  await w.drain();
  t.equal(sink.messages.length, 1, 'the pool holds a live connection');

  await sink.stop();
  for (const n of [1, 2, 3]) enqueue(message({ subject: `during ${n}` }));
  await w.drain();
  t.match(outbox.backlog(), { queued: 3, sending: 0, failed: 0 });
  t.ok(
    rows()
      .filter((r) => r.status === 'queued')
      .every((r) => r.attempts === 1 && r.lastError),
    'each failure recorded',
  );

  await sink.restart();
  clock.advance(MAX_BACKOFF_MS);
  await w.drain();
  t.same(outbox.backlog(), { queued: 0, sending: 0, failed: 0 });
  t.ok(
    rows().every((r) => r.status === 'sent'),
    'all four sent',
  );
  t.same(sink.messages.map((m) => m.parsed.subject).sort(), ['before', 'during 1', 'during 2', 'during 3']);
});

t.test('rows claimed by a worker that died are sent by the next one once the lease expires', async (t) => {
  const { sink, clock, worker, rows, enqueue, outbox } = await setup(t);
  enqueue(message({ subject: 'one' }));
  enqueue(message({ subject: 'two' }));
  // The dead worker: it claimed both rows and never came back to mark them.
  t.equal(outbox.claim(10, LEASE_MS).length, 2);

  const survivor = worker();
  await survivor.drain();
  t.equal(sink.messages.length, 0, 'a live lease is respected');

  clock.advance(LEASE_MS);
  await survivor.drain();
  t.equal(sink.messages.length, 2);
  t.ok(rows().every((r) => r.status === 'sent' && r.attempts === 2));
});

t.test('release gives claimed rows back without counting an attempt', async (t) => {
  const { worker, rows, enqueue, outbox, sink } = await setup(t);
  enqueue(message());
  const [claimed] = outbox.claim(1, LEASE_MS);
  outbox.release([claimed!.id]);
  t.match(rows()[0], { status: 'queued', attempts: 0, leaseUntil: null });
  await worker().drain();
  t.equal(sink.messages.length, 1);
});

t.test('a message enqueued in a transaction that rolls back never exists', async (t) => {
  const { db, outbox, worker, rows, sink } = await setup(t);
  t.throws(() =>
    immediate(db, (tx) => {
      outbox.enqueue(tx, message());
      throw new Error('the change failed');
    }),
  );
  t.equal(rows().length, 0);
  await worker().drain();
  t.equal(sink.messages.length, 0);
});

t.test('enqueue refuses several recipients, line breaks and mismatched calendars', async (t) => {
  const { db, outbox, rows } = await setup(t);
  const bad: Partial<OutgoingMessage>[] = [
    { to: 'ann@example.org, bob@example.org' },
    { to: 'ann@example.org; bob@example.org' },
    { to: 'ann@example.org\r\nBcc: bob@example.org' },
    { to: 'not an address' },
    { subject: 'Hi\r\nBcc: bob@example.org' },
    { replyTo: 'a@example.org\nX: y' },
    { headers: { Bcc: 'bob@example.org' } },
    { headers: { 'X-Thing': 'a\r\nBcc: bob@example.org' } },
    { calendar: { method: 'CANCEL', content: INVITE } },
  ];
  for (const overrides of bad) {
    t.throws(() => immediate(db, (tx) => outbox.enqueue(tx, message(overrides))), JSON.stringify(overrides));
  }
  t.equal(rows().length, 0);
});

t.test('without SMTP_URL every message is written as one .eml file', async (t) => {
  const { config, worker, rows, enqueue } = await setup(t, { smtp: false });
  enqueue(message({ subject: 'first' }));
  enqueue(message({ subject: 'second', calendar: { method: 'REQUEST', content: INVITE } }));
  await worker().drain();

  const files = (await readdir(config.mailDir)).sort();
  t.equal(files.length, 2, 'one file per message, no temporary files left');
  t.ok(files.every((f) => /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-[0-9a-f-]{36}\.eml$/.test(f)));
  const parsed = await Promise.all(files.map(async (f) => simpleParser(await readFile(join(config.mailDir, f)))));
  const byId = new Map(rows().map((r) => [r.messageId, r]));
  for (const mail of parsed) {
    const row = byId.get(mail.messageId ?? '');
    t.ok(row, `file carries a known Message-ID (${mail.messageId})`);
    t.equal(mail.subject, row?.subject);
    t.equal(mail.html, '<p>Hello Ann</p>');
    t.equal(row?.status, 'sent');
  }
  const invite = parsed.find((m) => m.subject === 'second');
  t.ok(invite?.attachments.some((a) => a.contentType === 'text/calendar'));
});

t.test('email layout escapes hostile values and keeps the subject to one line', async (t) => {
  const hostile = '<script>alert(1)</script>"\'&';
  const email = renderEmail({
    subject: 'Welcome\r\nBcc: victim@example.org',
    greeting: `Hello ${hostile}`,
    paragraphs: ['"><img src=x onerror=alert(1)>', 'line one\nline two'],
    action: { label: `Confirm ${hostile}`, url: 'https://convene.example.org/confirm?token=a&b="><script>' },
    footer: [`Sent to ${hostile}`],
  });
  t.equal(email.subject, 'Welcome Bcc: victim@example.org');
  t.notMatch(email.html, /<script>|<img/);
  t.match(email.html, '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;');
  t.match(email.html, 'href="https://convene.example.org/confirm?token=a&amp;b=%22%3E%3Cscript%3E"');
  t.match(email.html, 'line one<br>\nline two');
  t.match(email.text, 'Hello <script>alert(1)</script>', 'the text part is not HTML and stays literal');
  t.throws(() => renderEmail({ subject: 'x', paragraphs: [], action: { label: 'Go', url: 'javascript:alert(1)' } }));

  // Through the real road: no injected header survives into the delivered message.
  const { sink, worker, enqueue } = await setup(t);
  enqueue(message({ subject: email.subject, text: email.text, html: email.html }));
  await worker().drain();
  const received = sink.messages[0]!;
  t.equal(received.parsed.subject, 'Welcome Bcc: victim@example.org');
  t.notOk(received.parsed.bcc);
  t.same(received.envelope.to, ['ann@example.org'], 'nobody else received it');
  t.equal(received.parsed.html, email.html);
});

t.test('the mailer plugin sends what is enqueued and stops cleanly on close', async (t) => {
  const { db, sqlite } = openDatabase(':memory:');
  migrateDatabase(db);
  t.teardown(() => closeDatabase(sqlite));
  const sink = await startSmtpSink(t);
  const config = configFor(tmpdir(), sink.url);
  const transport = createTransport(config);
  let closed = false;

  const app = Fastify();
  const outbox = createOutbox({ db, clock: systemClock, from: config.mailFrom, messageIdDomain: siteOf(config).messageIdDomain });
  const worker = createMailWorker({ outbox, transport, clock: systemClock, logger: quiet });
  const close = () => {
    closed = true;
    transport.close();
  };
  await app.register(mailer, { worker, enabled: true, graceMs: 5_000, close });
  await app.ready();
  // The enqueue nudges the running worker once the transaction has committed.
  immediate(db, (tx) => outbox.enqueue(tx, message()));
  await sink.waitFor(1);
  await app.close();

  t.equal(sink.messages.length, 1);
  t.same(outbox.backlog(), { queued: 0, sending: 0, failed: 0 });
  t.ok(closed, 'the transport is closed once the worker has stopped');
});

t.test('inline styles in emails stay whole attributes (no double quote inside style="…")', async (t) => {
  const { renderEmail: render } = await import('../src/lib/email-layout.js');
  const { renderCampaign, forRecipient } = await import('../src/modules/campaigns/campaigns.render.js');
  const transactional = render({ subject: 'Hi', paragraphs: ['Hello'], action: { label: 'Go', url: 'https://example.org' } }).html;
  const campaign = forRecipient(
    renderCampaign({ subject: 'News', markdown: '# Hi', clusterName: 'C', listId: 'c.example', baseUrl: 'https://c.example' }),
    {
      unsubscribeUrl: 'https://example.org/u',
      preferencesUrl: 'https://example.org/p',
    },
  ).html;
  for (const html of [transactional, campaign]) {
    const styles = [...html.matchAll(/style="([^"]*)"/g)].map((m) => m[1]!);
    t.ok(styles.length > 0);
    for (const style of styles) t.match(style, /;$/, `a complete style attribute: ${style.slice(0, 60)}…`);
  }
});

t.test('settle records outcomes and claims in one go; a handler that throws undoes only its own outcome', async (t) => {
  const { outbox, enqueue, rows } = await setup(t);
  for (const subject of ['one', 'two', 'three']) enqueue(message({ subject }));
  const [first, second] = outbox.claim(2, LEASE_MS);
  outbox.hooks.refused.on(() => {
    throw new Error('the bounce handler failed');
  });
  const settled = outbox.settle(
    [
      { status: 'sent', row: first!, response: '250 ok' },
      { status: 'refused', row: second!, error: '550 no such user', refusal: { command: 'RCPT TO', response: '550 5.1.1 no such user' } },
    ],
    5,
    LEASE_MS,
  );
  t.equal(settled.failures.length, 1, 'the refusal could not be recorded');
  t.match(String(settled.failures[0]!.err), /the bounce handler failed/);
  t.same(
    settled.claimed.map((row) => row.subject),
    ['three'],
    'and the one row still due was claimed, with its body',
  );
  t.equal(settled.claimed[0]!.text, 'Hello Ann');
  const byId = new Map(rows().map((row) => [row.id, row]));
  t.match(byId.get(first!.id), { status: 'sent', smtpResponse: '250 ok' });
  t.match(byId.get(second!.id), { status: 'sending', lastError: null }, 'the refused row stays claimed until its lease runs out');
});

t.test('a check that says no withholds the row as it is claimed; a check that throws is retried later', async (t) => {
  const { outbox, enqueue, rows, worker, sink, clock } = await setup(t);
  enqueue(message({ subject: 'keep' }));
  enqueue(message({ subject: 'withhold', to: 'bob@example.org' }));
  enqueue(message({ subject: 'cannot check', to: 'cat@example.org' }));
  let broken = true;
  outbox.hooks.sending.on((row) => {
    if (row.subject === 'withhold') return 'unsubscribed a moment ago';
    if (row.subject === 'cannot check' && broken) throw new Error('database is busy');
    return null;
  });
  const withheld: string[] = [];
  outbox.hooks.withheld.on((_tx, row, reason) => void withheld.push(`${row.subject}: ${reason}`));
  const w = worker();
  await w.drain();
  t.same(
    sink.messages.map((m) => m.parsed.subject),
    ['keep'],
  );
  t.same(withheld, ['withhold: unsubscribed a moment ago']);
  const bySubject = new Map(rows().map((row) => [row.subject, row]));
  t.match(bySubject.get('withhold'), { status: 'withheld', lastError: 'unsubscribed a moment ago' });
  t.match(bySubject.get('cannot check'), { status: 'queued', attempts: 1, lastError: /database is busy/ });
  broken = false;
  clock.advance(MAX_BACKOFF_MS);
  await w.drain();
  t.same(sink.messages.map((m) => m.parsed.subject).sort(), ['cannot check', 'keep']);
});

t.test('text and HTML go out quoted-printable in lines of at most 76, and arrive exactly as written', async (t) => {
  const { sink, worker, enqueue } = await setup(t);
  const text = [
    'Dear Zoë 👋,',
    'a line that ends in a space ',
    'and one in a tab\t',
    `${'a long line with = signs, '.repeat(12)}end`,
    '.',
    'a lone CR\rends here',
    '',
    'Ünïcödé all the way: 日本語のテキスト',
  ].join('\n');
  const html = `<p>Dear Zoë 👋,</p>\n<p>${'<a href="https://example.org/?a=1&amp;b=2">link</a> '.repeat(10)}</p>`;
  enqueue(message({ text, html }));
  enqueue(message({ to: 'bob@example.org', text: 'Text only', html: '' }));
  const japanese = 'こんにちは、世界。日本語のニュースレターです。'.repeat(8);
  enqueue(message({ to: 'cat@example.org', text: japanese, html: `<p>${japanese}</p>` }));
  await worker().drain();
  t.equal(sink.messages.length, 3);
  const to = (address: string) => sink.messages.find((m) => m.envelope.to.includes(address))!;
  const full = to('ann@example.org');
  const textOnly = to('bob@example.org');
  t.equal(full.parsed.text, text.replace(/\r/g, '\n'), 'the text, its lone CR a line break as SMTP carries it');
  t.equal(full.parsed.html, html);
  const body = full.raw.slice(full.raw.indexOf('\r\n\r\n'));
  t.equal((body.match(/Content-Transfer-Encoding: quoted-printable/g) ?? []).length, 2, 'both parts quoted-printable');
  t.same(
    body.split('\r\n').filter((line) => line.length > 76),
    [],
    'no line longer than 76',
  );
  t.notMatch(body, /[^\r]\n/, 'every line break is CRLF');
  t.equal(textOnly.parsed.text?.trim(), 'Text only');
  t.equal(textOnly.parsed.html, false, 'an empty HTML body makes no HTML part');
  t.equal(textOnly.parsed.subject, 'Hello', 'a message of one part keeps its headers');
  t.same(textOnly.envelope.to, ['bob@example.org']);
  // Mostly not Latin: nodemailer chooses, base64 (quoted-printable would triple it).
  const cat = to('cat@example.org');
  t.equal(cat.parsed.text?.trim(), japanese);
  t.equal(cat.parsed.html, `<p>${japanese}</p>`);
  t.equal((cat.raw.match(/Content-Transfer-Encoding: base64/g) ?? []).length, 2, 'both parts base64');
});

t.test(
  'a message enqueued without a body is sent with the body composed as it leaves; one nothing composes is retried, never sent empty',
  async (t) => {
    const { db, outbox, rows, worker, sink, clock } = await setup(t);
    const later = (to: string, subject: string) => immediate(db, (tx) => outbox.enqueueComposed(tx, { kind: 'test.later', to, subject }));
    const ann = later('ann@example.org', 'Logged subject');
    const bob = later('bob@example.org', 'Not composed yet');
    const cat = later('cat@example.org', 'Composed badly');
    t.same(db.$client.prepare('SELECT count(*) AS n FROM outbox_bodies').get(), { n: 0 }, 'no body is stored');
    let greeting = 'Hello';
    let composing = false;
    const inTransaction: boolean[] = [];
    outbox.hooks.compose.on((row): ComposedBody | null => {
      inTransaction.push(db.$client.inTransaction);
      if (row.id === ann)
        return { subject: `${greeting} Ann`, text: `${greeting}, Ann`, html: `<p>${greeting}, Ann</p>`, headers: { 'X-Made': 'now' } };
      if (row.id === bob && composing) return { subject: 'Hi Bob', text: 'Hi Bob', html: '<p>Hi Bob</p>' };
      if (row.id === cat) return { subject: 'Cat', text: 'Cat', html: '<p>Cat</p>', headers: { Bcc: 'eve@example.org' } };
      return null;
    });
    // The body is made at the claim, not at the enqueue: what the handler makes then is what goes out.
    greeting = 'Good morning';
    const w = worker();
    await w.drain();
    t.equal(sink.messages.length, 1, 'only the composed message was sent');
    const sent = sink.messages[0]!;
    t.equal(sent.parsed.subject, 'Good morning Ann', "the handler's subject is the one sent");
    t.equal(sent.parsed.text?.trim(), 'Good morning, Ann');
    t.equal(sent.parsed.html, '<p>Good morning, Ann</p>');
    t.equal(sent.parsed.headers.get('x-made'), 'now');
    const byId = new Map(rows().map((row) => [row.id, row]));
    t.match(byId.get(ann), { status: 'sent', subject: 'Logged subject' });
    t.match(byId.get(bob), { status: 'queued', attempts: 1, lastError: /nothing composed the body/ });
    t.match(byId.get(cat), { status: 'queued', attempts: 1, lastError: /header Bcc is set from the message itself/ });
    composing = true;
    clock.advance(MAX_BACKOFF_MS);
    await w.drain();
    t.same(sink.messages.map((m) => m.parsed.subject).sort(), ['Good morning Ann', 'Hi Bob'], 'composed on the retry');
    t.same(new Set(inTransaction), new Set([false]), 'composed after the claim committed, not holding the write lock');
  },
);

/**
 * A running worker over `transport` that notes, as each send starts, how many rows the table holds claimed
 * (status sending); `sendUntil` starts it, waits until `done` (10 s at most) and stops it.
 */
function watchedWorker({ db, outbox, transport, clock }: Awaited<ReturnType<typeof setup>>, concurrency: number, delayMs: () => number) {
  const claimed = db.$client.prepare("SELECT count(*) AS n FROM outbox WHERE status = 'sending'").pluck();
  const watch = { most: 0 };
  const watching: MailTransport = {
    async send(row, options) {
      watch.most = Math.max(watch.most, claimed.get() as number);
      await new Promise((resolve) => setTimeout(resolve, delayMs()));
      return transport.send(row, options);
    },
    close() {},
  };
  const worker = createMailWorker({ outbox, transport: watching, clock, logger: quiet, concurrency, leaseMs: LEASE_MS });
  return Object.assign(watch, {
    async sendUntil(done: () => boolean): Promise<void> {
      worker.start();
      for (let waited = 0; waited < 10_000 && !done(); waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      await worker.stop();
    },
  });
}

t.test('a running worker never has more rows claimed and unrecorded than its concurrency, and records every send', async (t) => {
  const built = await setup(t);
  const { enqueue, rows } = built;
  for (let i = 0; i < 40; i++) enqueue(message({ to: `reader${i}@example.org`, subject: `n${i}` }));
  const watch = watchedWorker(built, 4, () => Math.random() * 5);
  await watch.sendUntil(() => rows().every((row) => row.status === 'sent'));
  const { most } = watch;
  t.ok(most <= 4, `at most 4 claimed at once (saw ${most})`);
  t.ok(most >= 2, `sends overlapped (saw ${most})`);
  t.ok(
    rows().every((row) => row.status === 'sent'),
    'all 40 recorded as sent',
  );
});

t.test('a row whose outcome could not be recorded keeps its slot until its lease ends', async (t) => {
  const built = await setup(t, { failures: ['perm'] });
  const { outbox, enqueue, rows } = built;
  outbox.hooks.refused.on(() => {
    throw new Error('the bounce handler failed');
  });
  for (let i = 0; i < 6; i++) enqueue(message({ to: `reader${i}@example.org`, subject: `n${i}` }));
  const watch = watchedWorker(built, 2, () => 2);
  await watch.sendUntil(() => rows().filter((row) => row.status === 'sent').length >= 5);
  const { most } = watch;
  t.equal(rows().filter((row) => row.status === 'sent').length, 5, 'the other five were sent');
  t.equal(rows().filter((row) => row.status === 'sending').length, 1, 'the refused one stays claimed (its record failed)');
  t.ok(most <= 2, `never more than 2 claimed at once, the stuck one included (saw ${most})`);
});

t.test('a send the relay does not answer in time is aborted and retried; a finished send holds no timer', async (t) => {
  const { db, sqlite } = openDatabase(':memory:');
  migrateDatabase(db);
  t.teardown(() => closeDatabase(sqlite));
  const clock = manualClock('2026-03-02T09:00:00Z');
  // The relay answers each message 5 s after it arrives; the send gives up after 300 ms.
  const sink = await startSmtpSink(t, { delayMs: 5_000 });
  const dataDir = await mkdtemp(join(tmpdir(), 'convene-outbox-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const config = configFor(dataDir, sink.url);
  const transport = createTransport(config, { sendTimeoutMs: 300 });
  t.teardown(() => transport.close());
  const outbox = createOutbox({ db, clock, from: config.mailFrom, messageIdDomain: siteOf(config).messageIdDomain });
  immediate(db, (tx) => outbox.enqueue(tx, message()));
  const worker = createMailWorker({ outbox, transport, clock, logger: quiet, concurrency: 1, maxAttempts: 4, leaseMs: LEASE_MS });
  const began = performance.now();
  await worker.drain();
  await worker.drain();
  const took = performance.now() - began;
  const [row] = db.select().from(outboxTable).all();
  t.match(row, { status: 'queued', attempts: 1 }, 'to be tried again later');
  t.match(row?.lastError, /abort/i, `the send was aborted (${row?.lastError})`);
  t.ok(took < 4_000, `after the timeout, not the relay's answer (${Math.round(took)} ms)`);

  // abortedBy: the timeout's reason; the outer signal's; and once done, neither.
  const timedOut = abortedBy(undefined, 20);
  await new Promise((resolve) => timedOut.signal.addEventListener('abort', resolve));
  t.equal((timedOut.signal.reason as DOMException).name, 'TimeoutError');
  const outer = new AbortController();
  const stopped = abortedBy(outer.signal, 60_000);
  outer.abort(new Error('the worker stops'));
  t.equal((stopped.signal.reason as Error).message, 'the worker stops');
  stopped.done();
  const finished = new AbortController();
  const sent = abortedBy(finished.signal, 20);
  sent.done();
  finished.abort(new Error('later'));
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(sent.signal.aborted, false, 'a send that has ended is aborted by nothing: its timer cleared, the outer signal let go');
  const already = abortedBy(AbortSignal.abort(new Error('already')), 60_000);
  t.equal(already.signal.aborted, true, 'an outer signal aborted already aborts at once (and starts no timer)');
  already.done();
});

t.test("a send lets go of the worker's signal when it ends, sent or failed", async (t) => {
  const { db, sqlite } = openDatabase(':memory:');
  migrateDatabase(db);
  t.teardown(() => closeDatabase(sqlite));
  const clock = manualClock('2026-03-02T09:00:00Z');
  const sink = await startSmtpSink(t);
  const dataDir = await mkdtemp(join(tmpdir(), 'convene-outbox-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const config = configFor(dataDir, sink.url);
  const outbox = createOutbox({ db, clock, from: config.mailFrom, messageIdDomain: siteOf(config).messageIdDomain });
  immediate(db, (tx) => outbox.enqueue(tx, message()));
  const [row] = outbox.settle([], 1, LEASE_MS).claimed;
  if (!row) throw new Error('nothing was claimed');
  // One listener per send on the worker's signal while it lasts (abortedBy): one left behind per message
  // would hold every finished send's controller and timer for as long as the worker runs.
  const worker = new AbortController();
  const sending = createTransport(config, { sendTimeoutMs: 60_000 });
  t.teardown(() => sending.close());
  await sending.send(row, { signal: worker.signal });
  t.equal(sink.messages.length, 1, 'sent');
  t.equal(getEventListeners(worker.signal, 'abort').length, 0, 'a sent message leaves no listener');
  // A relay that refuses the connection (a port just let go of): the send fails, and lets go all the same.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise((resolve) => closed.close(resolve));
  const refusing = createTransport(configFor(dataDir, `smtp://127.0.0.1:${port}`), { sendTimeoutMs: 60_000 });
  t.teardown(() => refusing.close());
  await t.rejects(refusing.send(row, { signal: worker.signal }));
  t.equal(getEventListeners(worker.signal, 'abort').length, 0, 'a failed send leaves no listener');
});
