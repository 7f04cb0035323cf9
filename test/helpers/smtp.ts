// A real SMTP server on loopback for tests: receives, parses and keeps every message, and can refuse on demand.
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export type SinkBehaviour = 'ok' | 'temp' | 'perm' | 'unknown-user';

export interface ReceivedMessage {
  parsed: ParsedMail;
  /** The message exactly as it arrived, headers included. */
  raw: string;
  envelope: { from: string; to: string[] };
}

export interface SmtpSink {
  port: number;
  url: string;
  messages: ReceivedMessage[];
  /** How DATA is answered from now on: accept, 451 (try later) or 550 (refused); unknown-user refuses RCPT TO with 550 5.1.1. */
  setBehaviour(behaviour: SinkBehaviour): void;
  /** Resolves once `count` messages in total have been accepted. */
  waitFor(count: number): Promise<void>;
  /** Resolves with the first message to `to` with this subject, once it has arrived (fails after 10 s). */
  message(to: string, subject: string): Promise<ReceivedMessage>;
  stop(): Promise<void>;
  /** Listens again on the same port (after stop()). */
  restart(): Promise<void>;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

function refusal(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

export async function startSmtpSink(
  t: Teardown,
  opts: {
    failures?: Exclude<SinkBehaviour, 'ok'>[];
    /** A slow relay: each message is answered this long after it has arrived. */
    delayMs?: number;
  } = {},
): Promise<SmtpSink> {
  const messages: ReceivedMessage[] = [];
  // One-off answers for the next messages, before falling back to the standing behaviour.
  const failures = [...(opts.failures ?? [])];
  let behaviour: SinkBehaviour = 'ok';
  let waiters: { count: number; resolve: () => void }[] = [];
  let server: SMTPServer | undefined;
  let port = 0;

  function create(): SMTPServer {
    return new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      secure: false,
      logger: false,
      // Pooled client connections stay open; don't wait the default 30 s for them on stop.
      closeTimeout: 50,
      onRcptTo(address, _session, callback) {
        if (behaviour === 'unknown-user')
          return callback(refusal(550, `5.1.1 <${address.address}>: Recipient address rejected: User unknown`));
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => (opts.delayMs ? void setTimeout(reply, opts.delayMs) : reply()));
        const reply = () => {
          const answer = failures.shift() ?? behaviour;
          if (answer === 'temp') return callback(refusal(451, 'Temporary local problem, try again later'));
          if (answer === 'perm') return callback(refusal(550, 'Mailbox unavailable'));
          const raw = Buffer.concat(chunks);
          simpleParser(raw).then(
            (parsed) => {
              messages.push({
                parsed,
                raw: raw.toString('utf8'),
                envelope: {
                  from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                  to: session.envelope.rcptTo.map((r) => r.address),
                },
              });
              waiters = waiters.filter((w) => (messages.length >= w.count ? (w.resolve(), false) : true));
              callback();
            },
            (err: Error) => callback(err),
          );
        };
      },
    });
  }

  async function listen(): Promise<void> {
    const next = create();
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        next.off('error', reject);
        resolve();
      });
    });
    // A client disconnecting mid-session is routine here; don't let it become an unhandled error.
    next.on('error', () => undefined);
    port = (next.server.address() as AddressInfo).port;
    server = next;
  }

  async function stop(): Promise<void> {
    const current = server;
    server = undefined;
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  }

  await listen();
  t.teardown(stop);

  return {
    get port() {
      return port;
    },
    get url() {
      return `smtp://127.0.0.1:${port}`;
    },
    messages,
    setBehaviour(next) {
      behaviour = next;
    },
    waitFor(count) {
      if (messages.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async message(to, subject) {
      for (let waited = 0; waited < 10_000; waited += 25) {
        const found = messages.find((m) => m.envelope.to[0] === to && m.parsed.subject === subject);
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`no "${subject}" to ${to}; received: ${messages.map((m) => `${m.envelope.to[0]}: ${m.parsed.subject}`).join('; ')}`);
    },
    stop,
    restart: async () => {
      await stop();
      await listen();
    },
  };
}
