// The mail worker: leases due outbox rows, hands them to the transport, and records sent, retry or failed.
import type { Clock } from '../../lib/clock.js';
import { redactText } from '../../lib/logging.js';
import type { DkimKey } from '../../lib/dkim.js';
import { bounceAddress } from '../../shared/return-path.js';
import type { Outbox, OutboxRow } from './outbox.service.js';

export interface SendOptions {
  /** Aborts a send that outlives a shutdown's grace period. */
  signal?: AbortSignal;
  /** Signs the message. */
  dkim?: DkimKey;
  /** The envelope sender (where bounces go); the From address when absent. */
  returnPath?: string;
}

/** What the worker needs from a mail transport (SMTP or .eml files; see outbox.transport.ts). */
export interface MailTransport {
  send(row: OutboxRow, options: SendOptions): Promise<{ response: string }>;
  close(): void;
}

/** The subset of pino the worker uses, so the CLI and tests can pass any compatible logger. */
export interface MailLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything (the default when nobody asks for lines). */
export const SILENT_LOGGER: MailLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface Backoff {
  /** Delay ceiling before the second attempt; it doubles with every further attempt. */
  baseMs: number;
  maxMs: number;
}

export interface MailWorkerOptions {
  outbox: Outbox;
  transport: MailTransport;
  clock: Clock;
  logger: MailLogger;
  concurrency?: number;
  maxAttempts?: number;
  /** How often to look for due rows (retries coming due) when nothing nudges the worker. */
  pollIntervalMs?: number;
  /** How long a claimed row is ours; must exceed the longest send, or another worker may send it too. */
  leaseMs?: number;
  backoff?: Backoff;
  random?: () => number;
  /** RETURN_PATH_DOMAIN: each message's envelope sender is bounce+<its id>@ this domain. */
  returnPathDomain?: string;
}

export type MailWorker = ReturnType<typeof createMailWorker>;

export const DEFAULT_BACKOFF: Backoff = { baseMs: 30_000, maxMs: 60 * 60_000 };

/** Exponential backoff with "equal jitter": half the delay is fixed, half random, so retries of a burst spread out. */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

// Permanent: the server refused this message (sender, recipient or content). Anything else
// (a login refused, a 5xx greeting, a dropped connection) would refuse every message alike,
// so it is the server's or our configuration's problem and worth retrying.
const MESSAGE_REJECTIONS = new Set(['EENVELOPE', 'EMESSAGE']);

export function isPermanentFailure(err: unknown): boolean {
  const { code, responseCode } = (err ?? {}) as { code?: unknown; responseCode?: unknown };
  if (typeof responseCode !== 'number' || responseCode < 500 || responseCode >= 600) return false;
  // 503 is "bad sequence of commands": the session's state, not the message (nodemailer agrees).
  if (responseCode === 503) return false;
  return code === undefined || (typeof code === 'string' && MESSAGE_REJECTIONS.has(code));
}

/** Which command the server refused, and its answer (nodemailer's `command` and `response`). */
function refusalOf(err: unknown): { command: string | null; response: string } {
  const { command, response } = (err ?? {}) as { command?: unknown; response?: unknown };
  return { command: typeof command === 'string' ? command : null, response: typeof response === 'string' ? response.slice(0, 500) : '' };
}

/** One line, no stack, bounded: it is stored in last_error and shown to organisers. */
export function describeFailure(err: unknown): string {
  const e = (err ?? {}) as { code?: unknown; responseCode?: unknown; message?: unknown };
  const parts = [e.code, e.responseCode, typeof e.message === 'string' ? e.message : String(err)]
    .filter((p) => p !== undefined && p !== null && p !== '')
    .map(String);
  return parts.join(' ').replace(/\s+/g, ' ').trim().slice(0, 500);
}

export function createMailWorker(options: MailWorkerOptions) {
  const { outbox, transport, clock, logger } = options;
  const concurrency = options.concurrency ?? 4;
  const maxAttempts = options.maxAttempts ?? 8;
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  const leaseMs = options.leaseMs ?? 5 * 60_000;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const random = options.random ?? Math.random;
  const { returnPathDomain } = options;

  const inFlight = new Set<Promise<void>>();
  let abort = new AbortController();
  let running = false;
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

  function record(what: string, row: OutboxRow, write: () => void): void {
    try {
      write();
    } catch (err) {
      // The lease runs out and the row is claimed again: at worst sent twice, never lost.
      logger.error({ err, outboxId: row.id }, `mail worker could not record ${what}`);
    }
  }

  async function deliver(row: OutboxRow): Promise<void> {
    const context = { outboxId: row.id, kind: row.kind, attempt: row.attempts };
    let response: string;
    try {
      // The last word before it leaves: a newsletter to someone who unsubscribed a moment ago stays here.
      // (A check that cannot be made is a temporary failure, like a send that cannot be.)
      const withhold = outbox.reasonToWithhold(row);
      if (withhold !== null) {
        record('a withholding', row, () => outbox.markWithheld(row, withhold));
        logger.info({ ...context, reason: withhold }, 'email withheld');
        return;
      }
      ({ response } = await transport.send(row, {
        signal: abort.signal,
        dkim: outbox.signingKeyFor(row) ?? undefined,
        returnPath: returnPathDomain ? bounceAddress(row.id, returnPathDomain) : undefined,
      }));
    } catch (err) {
      const error = describeFailure(err);
      if (isPermanentFailure(err)) {
        record('a failure', row, () => outbox.markRefused(row, error, refusalOf(err)));
        logger.warn({ ...context, error: redactText(error) }, 'email refused for good');
      } else if (row.attempts >= maxAttempts) {
        record('a failure', row, () => outbox.markFailed(row, `gave up after ${row.attempts} attempts: ${error}`));
        logger.error({ ...context, error: redactText(error) }, 'email given up after repeated temporary failures');
      } else {
        const next = new Date(clock.now().getTime() + backoffDelay(row.attempts, backoff, random));
        record('a retry', row, () => outbox.markRetry(row, error, next));
        logger.warn({ ...context, error: redactText(error), nextAttemptAt: next.toISOString() }, 'email failed temporarily; will retry');
      }
      return;
    }
    record('a delivery', row, () => outbox.markSent(row, response));
    logger.info(context, 'email sent');
  }

  /**
   * Claims exactly as many rows as there are free slots and starts each at once, so no claimed
   * row ever waits in memory while its lease runs down (and none is left unstarted on stop).
   */
  function fill(): void {
    const free = concurrency - inFlight.size;
    if (free <= 0 || stopping) return;
    let rows: OutboxRow[];
    try {
      rows = outbox.claim(free, leaseMs);
    } catch (err) {
      logger.error({ err }, 'mail worker could not claim outbox rows; will try again');
      return;
    }
    for (const row of rows) {
      const sending: Promise<void> = deliver(row)
        .catch((err: unknown) => logger.error({ err, outboxId: row.id }, 'mail worker failed unexpectedly'))
        .finally(() => {
          inFlight.delete(sending);
          if (running) fill();
        });
      inFlight.add(sending);
    }
  }

  async function idle(): Promise<void> {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  }

  return {
    start(): void {
      if (running) return;
      running = true;
      stopping = false;
      unsubscribe = outbox.onEnqueued(() => {
        if (running) fill();
      });
      timer = setInterval(fill, pollIntervalMs);
      timer.unref();
      fill();
    },

    /** Look for due rows now (after an enqueue) instead of at the next poll. */
    nudge(): void {
      if (running) fill();
    },

    /**
     * Stops claiming and resolves once every send in flight has been recorded. Sends still running
     * after `graceMs` are aborted; they are recorded as temporary failures and retried later.
     */
    async stop(graceMs = Infinity): Promise<void> {
      running = false;
      stopping = true;
      clearInterval(timer);
      timer = undefined;
      unsubscribe?.();
      unsubscribe = undefined;
      let deadline: NodeJS.Timeout | undefined;
      try {
        if (Number.isFinite(graceMs)) {
          deadline = setTimeout(() => abort.abort(new Error('mail worker stopping')), graceMs);
          deadline.unref();
        }
        await idle();
      } finally {
        clearTimeout(deadline);
        abort = new AbortController();
        stopping = false;
      }
    },

    /** Sends until nothing is due any more (by the worker's clock), without starting the poll: `newsletter send --test-to`. */
    async drain(): Promise<void> {
      for (;;) {
        fill();
        if (inFlight.size === 0) return;
        await Promise.race(inFlight);
      }
    },
  };
}
