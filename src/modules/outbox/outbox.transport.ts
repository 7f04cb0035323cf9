// Mail transports: a pooled SMTP connection to SMTP_URL, or (the embedded default) one .eml file per
// message under DATA_DIR/mail; and the mailer that owns the one it makes and builds the workers that use it.
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type nodemailer from 'nodemailer';
import type { SendMailOptions } from 'nodemailer/lib/mailer';
import type * as qpModule from 'nodemailer/lib/qp';
import type { Config } from '../../config.js';
import type { Clock } from '../../lib/clock.js';
import type { Outbox, OutboxRow } from './outbox.service.js';
import {
  createMailWorker,
  type MailLogger,
  type MailTransport,
  type MailWorker,
  type MailWorkerOptions,
  type SendOptions,
  SILENT_LOGGER,
} from './outbox.worker.js';

export interface TransportOptions {
  /** Pooled SMTP connections; defaults to config.mailConcurrency so every worker slot has one. */
  concurrency?: number;
  /** A send taking longer is aborted (and retried); keep it below the worker's lease. */
  sendTimeoutMs?: number;
  logger?: MailLogger;
}

type Nodemailer = typeof nodemailer;
type Transporter = ReturnType<Nodemailer['createTransport']>;
type Qp = typeof qpModule;

/**
 * nodemailer is loaded, and the transporter made, when the first message is sent rather than at
 * start-up (it is the largest package in the server bundle); in the bundle its modules then run only
 * on that first send. `close` closes the transporter if one was made.
 */
function lazyTransporter(make: (nodemailer: Nodemailer) => Transporter) {
  let made: Promise<{ transporter: Transporter; qp: Qp }> | undefined;
  return {
    get: () =>
      (made ??= Promise.all([import('nodemailer'), import('nodemailer/lib/qp')]).then(([module, qp]) => ({
        transporter: make(module.default),
        qp,
      }))),
    close: () => void made?.then(({ transporter }) => transporter.close()),
  };
}

/**
 * A text or HTML part made ready, quoted-printable, with nodemailer's own encoder: given the text,
 * nodemailer scans it to choose an encoding and streams it through an encoder and a pipeline of its
 * own for every part, which cost more than the encoding itself (about a third of its work on a
 * newsletter copy, bench/FINDINGS.md). Line breaks become CRLF, as SMTP carries them.
 */
/**
 * Whether quoted-printable suits a text: more Latin letters than other non-ASCII or control characters,
 * the rule nodemailer chooses by (otherwise base64 is smaller, and nodemailer is left to choose).
 */
function mostlyLatin(content: string): boolean {
  let latin = 0;
  let other = 0;
  for (let i = 0; i < content.length; i++) {
    const code = content.charCodeAt(i);
    if (code >= 0x80 || (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d)) other++;
    else if ((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) latin++;
  }
  return other < latin;
}

function readyPart(qp: Qp, contentType: 'text/plain' | 'text/html', content: string): { raw: string } {
  const encoded = qp.wrap(qp.encode(content.replace(/\r\n|\r|\n/g, '\r\n')), 76);
  return { raw: `Content-Type: ${contentType}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${encoded}` };
}

/**
 * The headers a DKIM signature covers: nodemailer's list plus List-Unsubscribe-Post, which RFC 8058
 * wants signed (a receiver ignores one-click unsubscribe otherwise), and List-Id.
 */
const SIGNED_HEADERS = [
  'From',
  'Sender',
  'Reply-To',
  'Subject',
  'Date',
  'Message-ID',
  'To',
  'Cc',
  'MIME-Version',
  'Content-Type',
  'Content-Transfer-Encoding',
  'List-Id',
  'List-Unsubscribe',
  'List-Unsubscribe-Post',
].join(':');

/**
 * Each DKIM key as a parsed KeyObject, made once: given the PEM text, as nodemailer documents, Node
 * parses it again for every signature, which costs 0.6-0.9 ms of the 0.9-1.2 ms a signed message takes
 * (bench/FINDINGS.md). Keys are few (the instance's and each cluster's); bounded all the same.
 */
const parsedKeys = new Map<string, KeyObject>();
function parsedKey(pem: string): KeyObject {
  let key = parsedKeys.get(pem);
  if (key === undefined) {
    key = createPrivateKey(pem);
    if (parsedKeys.size >= 100) parsedKeys.clear();
    parsedKeys.set(pem, key);
  }
  return key;
}

/**
 * The MIME message for one outbox row, signed with `dkim` when given, with `returnPath` as the envelope
 * sender when given (else the From address). Nothing is ever read from a file or URL.
 */
function messageOf(row: OutboxRow, { dkim, returnPath }: SendOptions, qp: Qp): SendMailOptions {
  return {
    // nodemailer hands privateKey to crypto's sign(), which takes a KeyObject as well as PEM text (its types say only text).
    ...(dkim ? { dkim: { ...dkim, privateKey: parsedKey(dkim.privateKey) as unknown as string, headerFieldNames: SIGNED_HEADERS } } : {}),
    ...(returnPath ? { envelope: { from: returnPath, to: row.toAddress } } : {}),
    messageId: row.messageId,
    date: row.createdAt,
    from: row.fromAddress,
    to: row.toAddress,
    ...(row.replyTo ? { replyTo: row.replyTo } : {}),
    subject: row.subject,
    // Ready-made only as two parts of a multipart message: a lone part is the message itself, and its raw
    // form would replace the message's own headers. (An empty text or html is left out, by nodemailer too.)
    ...(row.text && row.html && mostlyLatin(row.text) && mostlyLatin(row.html)
      ? { text: readyPart(qp, 'text/plain', row.text), html: readyPart(qp, 'text/html', row.html) }
      : { text: row.text, html: row.html }),
    headers: row.headers,
    // nodemailer labels the part method=PUBLISH unless told; it must match the calendar's METHOD.
    ...(row.calendar ? { icalEvent: { method: row.calendarMethod ?? 'PUBLISH', content: row.calendar } } : {}),
    attachments: (row.attachments ?? []).map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      content: a.content,
      encoding: 'base64',
    })),
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/**
 * A signal that aborts a send when `outer` does (the worker stopping) or after `timeoutMs`, and `done` to
 * call when the send has ended, which clears its timer and lets go of `outer`. Not AbortSignal.timeout
 * with AbortSignal.any: their timer and the signals it holds stayed until the timeout (two minutes) ran
 * out, long after the send, so a sender at 200 messages a second carried some 24,000 of each, promoted
 * to V8's old space (bench/FINDINGS.md, session 17).
 */
export function abortedBy(outer: AbortSignal | undefined, timeoutMs: number): { signal: AbortSignal; done(): void } {
  const controller = new AbortController();
  if (outer?.aborted) {
    controller.abort(outer.reason);
    return { signal: controller.signal, done() {} };
  }
  const timer = setTimeout(
    () => controller.abort(new DOMException(`the send took longer than ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  );
  // Unref'd, as AbortSignal.timeout's is: a timeout alone keeps no process alive.
  timer.unref();
  const onAbort = () => controller.abort(outer!.reason);
  outer?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    done() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}

function smtpTransport(smtpUrl: string, concurrency: number, sendTimeoutMs: number, logger?: MailLogger): MailTransport {
  const mailer = lazyTransporter((nodemailer) => {
    const transporter = nodemailer.createTransport({
      url: smtpUrl,
      pool: true,
      maxConnections: concurrency,
      // nodemailer's defaults (2 min to connect, 10 min of silence) outlast a sensible lease.
      connectionTimeout: 30_000,
      greetingTimeout: 30_000,
      socketTimeout: 60_000,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    // An unhandled 'error' event would crash the process; failures of a send reach its promise anyway.
    transporter.on('error', (err) => logger?.error({ err }, 'SMTP transport error'));
    return transporter;
  });
  return {
    async send(row, options) {
      const ending = abortedBy(options.signal, sendTimeoutMs);
      try {
        const { transporter, qp } = await mailer.get();
        const info = await transporter.sendMail({ ...messageOf(row, options, qp), signal: ending.signal });
        return { response: info.response };
      } finally {
        ending.done();
      }
    },
    close: mailer.close,
  };
}

/** Colons and dots are awkward in file names on some systems; the name still sorts by time. */
export function emlFileName(row: Pick<OutboxRow, 'createdAt' | 'id'>): string {
  return `${row.createdAt.toISOString().replace(/[:.]/g, '-')}-${row.id}.eml`;
}

function fileTransport(mailDir: string): MailTransport {
  const composer = lazyTransporter((nodemailer) =>
    nodemailer.createTransport({
      streamTransport: true,
      buffer: true,
      newline: 'windows',
      disableFileAccess: true,
      disableUrlAccess: true,
    }),
  );
  return {
    async send(row, options) {
      const { transporter, qp } = await composer.get();
      const info = await transporter.sendMail(messageOf(row, options, qp));
      const file = join(mailDir, emlFileName(row));
      // Written beside the target then renamed, so a reader never sees half a message.
      const temporary = join(mailDir, `.${row.id}.${process.pid}.tmp`);
      await mkdir(mailDir, { recursive: true });
      try {
        await writeFile(temporary, info.message as Buffer);
        await rename(temporary, file);
      } catch (err) {
        await unlink(temporary).catch(() => undefined);
        throw err;
      }
      return { response: `written to ${file}` };
    },
    close: composer.close,
  };
}

/** SMTP when config.smtpUrl is set; otherwise every message becomes an .eml file under config.mailDir. */
export function createTransport(
  config: Pick<Config, 'smtpUrl' | 'mailDir' | 'mailConcurrency'>,
  opts: TransportOptions = {},
): MailTransport {
  if (config.smtpUrl) {
    return smtpTransport(config.smtpUrl, opts.concurrency ?? config.mailConcurrency, opts.sendTimeoutMs ?? 120_000, opts.logger);
  }
  return fileTransport(config.mailDir);
}

/** Worker settings beyond the config's (the CLI polls faster and logs to stderr; tests shorten leases). */
export type WorkerOverrides = Partial<Pick<MailWorkerOptions, 'logger' | 'concurrency' | 'pollIntervalMs' | 'leaseMs' | 'backoff'>>;

export type Mailer = ReturnType<typeof createMailer>;

/** The transport the workers send with (one the caller passes, which it closes; or one made from the config, closed by close()). */
export function createMailer(deps: { outbox: Outbox; clock: Clock; config: Config; transport?: MailTransport; logger?: MailLogger }) {
  const logger = deps.logger ?? SILENT_LOGGER;
  const transport = deps.transport ?? createTransport(deps.config, { logger });
  return {
    transport,
    /** A mail worker over the outbox with the configured concurrency and attempts; started and stopped by its user. */
    worker(overrides: WorkerOverrides = {}): MailWorker {
      return createMailWorker({
        outbox: deps.outbox,
        transport,
        clock: deps.clock,
        logger,
        concurrency: deps.config.mailConcurrency,
        maxAttempts: deps.config.mailMaxAttempts,
        returnPathDomain: deps.config.returnPathDomain,
        ...overrides,
      });
    },
    close(): void {
      if (!deps.transport) transport.close();
    },
  };
}
