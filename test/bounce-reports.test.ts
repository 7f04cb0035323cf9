// Reading what comes back, in the shapes mail servers really send: a Postfix DSN returning the whole
// message, a multi-recipient DSN, a temporary failure, an old-style bounce with no report, an ARF
// report whose original message is base64, an out-of-office reply, and return addresses that are forged.
import t from 'tap';
import { findingOfMailgun } from '../src/modules/bounces/bounces.mailgun.js';
import { classify, findingsOf, readReport } from '../src/modules/bounces/bounces.reports.js';
import { bounceAddress, readReturnAddress, unsubscribeAddress } from '../src/shared/return-path.js';

const DOMAIN = 'bounces.example.org';
const KEY = 'a-secret-key-for-these-tests-only-0000';
const ID = '019ad1e2-3b4c-7d5e-8f60-718293a4b5c6';
const read = (address: string) => readReturnAddress(address, DOMAIN, KEY);
const findings = async (raw: string, recipients: string[] = []) => findingsOf(await readReport(Buffer.from(raw), recipients), read);

const original = [
  'From: North West <news@nw.example>',
  'To: ada@example.org',
  'Subject: Winter news',
  `Message-ID: <${ID}@convene.example>`,
  'MIME-Version: 1.0',
  'Content-Type: text/plain',
  '',
  'Hello.',
].join('\r\n');

t.test('a Postfix DSN returning the whole message: a hard bounce for its return path', async (t) => {
  const raw = [
    `To: ${bounceAddress(ID, DOMAIN)}`,
    'From: MAILER-DAEMON@mx.example.net (Mail Delivery System)',
    'Subject: Undelivered Mail Returned to Sender',
    'Content-Type: multipart/report; report-type=delivery-status;',
    '\tboundary="B"',
    '',
    '--B',
    'Content-Description: Notification',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    "I'm sorry to have to inform you that your message could not be delivered.",
    '',
    '--B',
    'Content-Description: Delivery report',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.net',
    'X-Postfix-Queue-ID: 4ABC',
    '',
    'Final-Recipient: rfc822; ada@example.org',
    'Original-Recipient: rfc822;ada@example.org',
    'Action: failed',
    'Status: 5.1.1',
    'Remote-MTA: dns; mail.example.org',
    'Diagnostic-Code: smtp; 550 5.1.1 <ada@example.org>: Recipient address rejected:',
    '    User unknown',
    '',
    '--B',
    'Content-Description: Undelivered Message',
    'Content-Type: message/rfc822',
    '',
    original,
    '',
    '--B--',
  ].join('\r\n');
  t.same(await findings(raw), [
    {
      kind: 'hard',
      message: { id: ID },
      email: 'ada@example.org',
      detail: '5.1.1 smtp; 550 5.1.1 <ada@example.org>: Recipient address rejected: User unknown',
    },
  ]);
  // Without the return path (MAIL_FROM was the envelope sender), the quoted Message-ID names the message.
  const unaddressed = raw.replace(bounceAddress(ID, DOMAIN), 'news@nw.example');
  t.match(await findings(unaddressed), [{ kind: 'hard', message: { messageId: `<${ID}@convene.example>` } }]);
});

t.test('one DSN, two recipients: only the failed one is a finding; 4.x.x is soft; delayed is only a warning', async (t) => {
  const report = (blocks: string[]) =>
    [
      `To: ${bounceAddress(ID, DOMAIN)}`,
      'Subject: Delivery Status Notification',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="C"',
      '',
      '--C',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.example.net',
      '',
      ...blocks.flatMap((block) => [block, '']),
      '--C--',
    ].join('\r\n');
  t.match(
    await findings(
      report([
        'Final-Recipient: rfc822; ada@example.org\r\nAction: delivered\r\nStatus: 2.0.0',
        'Final-Recipient: rfc822; grace@example.org\r\nAction: failed\r\nStatus: 4.2.2\r\nDiagnostic-Code: smtp; 452 4.2.2 Mailbox full',
      ]),
    ),
    [{ kind: 'soft', email: 'grace@example.org', detail: /^4\.2\.2 smtp; 452/ }],
  );
  t.same(await findings(report(['Final-Recipient: rfc822; ada@example.org\r\nAction: delayed\r\nStatus: 4.4.7'])), {
    ignored: 'a delivery status of delayed',
  });
});

t.test('mail to a return path that is no report is not acted on: old-style bounces, automatic replies, quoted fields', async (t) => {
  const bounce = [
    'From: MAILER-DAEMON@old.example.net',
    'Subject: failure notice',
    '',
    "Hi. This is the qmail-send program. I'm afraid I wasn't able to deliver your message.",
    '<ada@example.org>: Sorry, no mailbox here by that name. (#5.1.1)',
  ].join('\r\n');
  t.same(await findings(bounce, [bounceAddress(ID, DOMAIN)]), { ignored: 'not a delivery status report: nothing to act on' });
  for (const [what, headers] of [
    ['an English subject', 'Subject: Automatic reply: Winter news'],
    ['a German subject', 'Subject: Abwesenheitsnotiz: Winter news'],
    ['Auto-Submitted with parameters', 'Auto-Submitted: auto-replied; owner-email="ada@example.org"\r\nSubject: Re: Winter news'],
    ['Auto-Submitted: auto-generated', 'Auto-Submitted: auto-generated\r\nSubject: Ticket #123 received'],
    ['Precedence: auto_reply', 'Precedence: auto_reply\r\nSubject: Thanks'],
  ]) {
    const away = `To: ${bounceAddress(ID, DOMAIN)}\r\n${headers}\r\n\r\nI am away until Monday.\r\n`;
    t.same(await findings(away), { ignored: 'an automatic reply' }, what as string);
  }
  // Someone writing report fields into an ordinary message to a return path changes nothing.
  const typed = `To: ${bounceAddress(ID, DOMAIN)}\r\nSubject: hi\r\n\r\nFinal-Recipient: rfc822; ada@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\nFeedback-Type: abuse\r\n`;
  t.same(await findings(typed), { ignored: 'not a delivery status report: nothing to act on' });
});

t.test('what a status says about the address: hard, soft, or blocked (policy: never suppresses)', async (t) => {
  t.equal(classify('5.1.1', 'smtp; 550 5.1.1 user unknown'), 'hard');
  t.equal(classify('5.1.10', null), 'hard', 'null MX');
  t.equal(classify('5.2.1', 'mailbox disabled'), 'hard');
  t.equal(classify('5.0.0', 'smtp; 550 5.0.0 <ada@example.org>... User unknown'), 'hard');
  t.equal(classify('5.0.0', 'smtp; 550 5.0.0 Message rejected'), 'soft', 'an unclear 5.0.0 is not taken as "no such address"');
  t.equal(classify('5.2.2', 'mailbox full'), 'soft');
  t.equal(classify('4.4.1', 'connection timed out'), 'soft');
  t.equal(classify('5.7.26', 'Unauthenticated email from nw.example is not accepted due to DMARC policy'), 'blocked');
  t.equal(classify('5.7.1', 'Message rejected as spam'), 'blocked');
  t.equal(classify(null, '550 No such user here'), 'hard');
  t.equal(classify(null, null), 'soft');
});

t.test('an ARF report with a base64 original message: a complaint about that message', async (t) => {
  const raw = [
    'From: feedback@isp.example',
    'To: fbl@nw.example',
    'Subject: Complaint',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="D"',
    '',
    '--D',
    'Content-Type: text/plain',
    '',
    'A user marked this message as spam.',
    '',
    '--D',
    'Content-Type: message/feedback-report',
    '',
    'Feedback-Type: abuse',
    'Version: 1',
    'Original-Mail-From: <news@nw.example>',
    '',
    '--D',
    'Content-Type: message/rfc822',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from(original).toString('base64'),
    '',
    '--D--',
  ].join('\r\n');
  t.same(await findings(raw), [
    { kind: 'complaint', message: { messageId: `<${ID}@convene.example>` }, email: undefined, detail: 'feedback: abuse' },
  ]);
  t.same(await findings(raw.replace('Feedback-Type: abuse', 'Feedback-Type: not-spam')), { ignored: 'a not-spam report' });
});

t.test('return addresses: bounce and unsubscribe are read back; a forged MAC or another domain is not', async (t) => {
  const unsubscribe = unsubscribeAddress(ID, DOMAIN, KEY);
  t.ok(unsubscribe.split('@')[0]!.length <= 64);
  t.same(read(unsubscribe), { kind: 'unsubscribe', subscriberId: ID });
  t.same(
    read(unsubscribe.toUpperCase().replace(DOMAIN.toUpperCase(), DOMAIN)),
    { kind: 'unsubscribe', subscriberId: ID },
    'case does not matter',
  );
  t.same(read(unsubscribeAddress(ID, DOMAIN, 'another-key-another-key-another-key')), { kind: 'other' }, 'a MAC made with another key');
  t.same(read(bounceAddress(ID, DOMAIN)), { kind: 'bounce', outboxId: ID });
  t.equal(read(bounceAddress(ID, 'elsewhere.example')), null);
  t.same(read(`postmaster@${DOMAIN}`), { kind: 'other' });
  t.same(await findings(`To: ${unsubscribe}\r\nSubject: unsubscribe\r\n\r\n`), [
    { kind: 'unsubscribe', subscriberId: ID, detail: 'mailto reply' },
  ]);
  t.same(await findings('To: someone@nw.example\r\nSubject: hello\r\n\r\nhi'), {
    ignored: 'neither a bounce, a complaint nor an unsubscribe reply about a message of ours',
  });
});

t.test("Mailgun's events: permanent is hard unless its status says policy; temporary is soft; others ignored", async (t) => {
  const event = (extra: object) => ({
    recipient: 'Ada@Example.org',
    message: { headers: { 'message-id': `${ID}@convene.example` } },
    ...extra,
  });
  t.match(
    findingOfMailgun(event({ event: 'failed', severity: 'permanent', 'delivery-status': { code: 550, description: 'No such user' } })),
    {
      kind: 'hard',
      email: 'ada@example.org',
      message: { messageId: `${ID}@convene.example` },
      detail: '550 No such user',
    },
  );
  t.match(
    findingOfMailgun(
      event({ event: 'failed', severity: 'permanent', 'delivery-status': { code: 550, message: '5.7.1 Rejected as spam' } }),
    ),
    { kind: 'blocked' },
  );
  t.match(findingOfMailgun(event({ event: 'failed', severity: 'temporary' })), { kind: 'soft' });
  t.match(findingOfMailgun(event({ event: 'complained' })), { kind: 'complaint' });
  t.same(findingOfMailgun(event({ event: 'opened' })), { ignored: "Mailgun's opened events are not acted on" });
  t.same(findingOfMailgun({ event: 'failed' }), { ignored: 'the event names no recipient' });
  t.match(
    findingOfMailgun(event({ event: 'failed', severity: 'permanent', 'delivery-status': { code: { toString: 1 } } })),
    { kind: 'hard' },
    'odd shapes do not throw',
  );
});
