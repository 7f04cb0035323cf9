// Mail infrastructure: the nodemailer transport (SMTP pool, or .eml files), and the plugin that runs the outbox worker.
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fp from 'fastify-plugin';
import type nodemailer from 'nodemailer';
import type { SendMailOptions } from 'nodemailer/lib/mailer';
import type { Config } from '../config.js';
import type { Clock } from '../lib/clock.js';
import type { Outbox, OutboxRow } from '../modules/outbox/outbox.service.js';
import { createMailWorker, type MailLogger, type MailTransport, type MailWorkerOptions } from '../modules/outbox/outbox.worker.js';

export type { MailTransport } from '../modules/outbox/outbox.worker.js';

declare module 'fastify' {
  interface FastifyInstance {
    outbox: Outbox;
  }
}

export interface TransportOptions {
  /** Pooled SMTP connections; defaults to config.mailConcurrency so every worker slot has one. */
  concurrency?: number;
  /** A send taking longer is aborted (and retried); keep it below the worker's lease. */
  sendTimeoutMs?: number;
  logger?: MailLogger;
}

type Nodemailer = typeof nodemailer;
type Transporter = ReturnType<Nodemailer['createTransport']>;

/**
 * nodemailer is loaded, and the transporter made, when the first message is sent rather than at
 * start-up, where it was the largest package in the server bundle (~0.65 MB); in the bundle its
 * modules then run only on that first send. `close` closes the transporter if one was made.
 */
function lazyTransporter(make: (nodemailer: Nodemailer) => Transporter) {
  let transporter: Promise<Transporter> | undefined;
  return {
    get: () => (transporter ??= import('nodemailer').then((module) => make(module.default))),
    close: () => void transporter?.then((made) => made.close()),
  };
}

/** The MIME message for one outbox row. Nothing is ever read from a file or URL. */
function messageOf(row: OutboxRow): SendMailOptions {
  return {
    messageId: row.messageId,
    date: row.createdAt,
    from: row.fromAddress,
    to: row.toAddress,
    ...(row.replyTo ? { replyTo: row.replyTo } : {}),
    subject: row.subject,
    text: row.text,
    html: row.html,
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
    async send(row, signal) {
      const timeout = AbortSignal.timeout(sendTimeoutMs);
      const transporter = await mailer.get();
      const info = await transporter.sendMail({ ...messageOf(row), signal: signal ? AbortSignal.any([timeout, signal]) : timeout });
      return { response: info.response };
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
    async send(row) {
      const info = await (await composer.get()).sendMail(messageOf(row));
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

export interface MailerPluginOptions {
  /** The outbox the app's services write to; the worker sends what it holds. */
  outbox: Outbox;
  clock: Clock;
  config: Config;
  /** A ready transport (tests pass one to a loopback SMTP server); the caller keeps ownership and closes it. */
  transport?: MailTransport;
  logger?: MailLogger;
  /** Worker tuning beyond what config sets (poll interval, lease, backoff). */
  worker?: Pick<MailWorkerOptions, 'pollIntervalMs' | 'leaseMs' | 'backoff' | 'onPermanentFailure'>;
}

export default fp<MailerPluginOptions>(
  async (app, opts) => {
    const { outbox, clock, config } = opts;
    const logger: MailLogger = opts.logger ?? app.log.child({ component: 'mailer' });
    const transport = opts.transport ?? createTransport(config, { logger });
    const worker = createMailWorker({
      ...opts.worker,
      outbox,
      transport,
      clock,
      logger,
      concurrency: config.mailConcurrency,
      maxAttempts: config.mailMaxAttempts,
    });
    app.decorate('outbox', outbox);

    app.addHook('onReady', async () => {
      if (config.mailWorker) worker.start();
    });
    app.addHook('onClose', async () => {
      // Half the shutdown grace for sends in flight; the rest is for the HTTP side and the database.
      await worker.stop(config.shutdownGraceMs / 2);
      if (!opts.transport) transport.close();
    });
  },
  { name: 'mailer', fastify: '5.x' },
);
