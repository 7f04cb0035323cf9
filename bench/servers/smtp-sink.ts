// A fast SMTP sink for the newsletter scenarios: accepts everything, counts each recipient by subject,
// and tells the runner over HTTP (GET /stats?subject=...; POST resets): messages, distinct recipients,
// duplicates, how many were DKIM-signed, and the time from the first message to the last (of that subject, or of all).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

interface Tally {
  seen: Map<string, number>;
  messages: number;
  /** Messages carrying a DKIM-Signature header. */
  signed: number;
  first: number;
  last: number;
}
const tally = (): Tally => ({ seen: new Map(), messages: 0, signed: 0, first: 0, last: 0 });
let all = tally();
let bySubject = new Map<string, Tally>();

function count(into: Tally, recipients: string[], now: number, signed: boolean): void {
  if (into.messages === 0) into.first = now;
  into.last = now;
  into.messages += 1;
  if (signed) into.signed += 1;
  for (const address of recipients) into.seen.set(address, (into.seen.get(address) ?? 0) + 1);
}

const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  closeTimeout: 50,
  size: 10 * 1024 * 1024,
  onData(stream, session, callback) {
    let head = '';
    stream.on('data', (chunk: Buffer) => {
      if (head.length < 8192) head += chunk.toString('latin1');
    });
    stream.on('end', () => {
      const now = performance.now();
      const recipients = session.envelope.rcptTo.map((rcpt) => rcpt.address);
      const subject = /^Subject: (.*)$/im.exec(head.split('\r\n\r\n')[0] ?? '')?.[1]?.trim() ?? '';
      const signed = /^DKIM-Signature:/im.test(head.split('\r\n\r\n')[0] ?? '');
      count(all, recipients, now, signed);
      if (!bySubject.has(subject)) bySubject.set(subject, tally());
      count(bySubject.get(subject)!, recipients, now, signed);
      callback();
    });
  },
});
await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));

const http = createServer((request, response) => {
  if (request.method === 'POST') {
    all = tally();
    bySubject = new Map();
  }
  const subject = new URL(request.url ?? '/', 'http://sink').searchParams.get('subject');
  const chosen = subject === null ? all : (bySubject.get(subject) ?? tally());
  const duplicates = [...chosen.seen.values()].reduce((sum, n) => sum + n - 1, 0);
  response.setHeader('content-type', 'application/json');
  response.end(
    JSON.stringify({
      messages: chosen.messages,
      signed: chosen.signed,
      distinct: chosen.seen.size,
      duplicates,
      seconds: (chosen.last - chosen.first) / 1000,
    }),
  );
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const smtpPort = (smtp.server.address() as AddressInfo).port;
process.stdout.write(
  JSON.stringify({ url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, smtpUrl: `smtp://127.0.0.1:${smtpPort}` }) + '\n',
);
process.on('SIGTERM', () => process.exit(0));
