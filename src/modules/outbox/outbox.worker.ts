// The mail worker: leases due outbox rows, hands them to the transport, and records sent, retry or failed.
import { setMaxListeners } from 'node:events';
import type { Clock } from '../../lib/clock.js';
import { redactText } from '../../lib/logging.js';
import type { DkimKey } from '../../lib/dkim.js';
import { bounceAddress } from '../../shared/return-path.js';
import type { DueRow, Outbox, OutboxRow, Outcome, Settled } from './outbox.service.js';

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

/**
 * What stops the sends in flight when the worker stops: each send listens to it while it lasts, up to
 * MAIL_CONCURRENCY (64) at once, past the 10 listeners at which Node warns of a leak.
 */
function stopSignal(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
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

  // A settle (one write transaction) waits until half the slots are free, so each records and claims
  // two or more messages: with four connections, 0.79-0.85x of a bare nodemailer loop instead of
  // 0.74-0.77x claiming one at a time (bench/FINDINGS.md). A message's outcome then waits for the next
  // settle; the crash bound is the same (claimed and unrecorded rows never exceed `concurrency`).
  const claimBatch = Math.max(1, Math.floor(concurrency / 2));
  const inFlight = new Set<Promise<void>>();
  /** What became of messages sent since the last settle: recorded by the next one, before it claims. */
  const outcomes: Outcome[] = [];
  /** Rows whose outcome could not be recorded: still claimed in the table until their lease ends (id → lease end, ms). */
  const unrecorded = new Map<string, number>();
  let abort = stopSignal();
  let running = false;
  let stopping = false;
  let settleQueued = false;
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

  /** Slots not taken by a send in flight or by a row whose outcome could not be recorded (until its lease ends). */
  function freeSlots(): number {
    const now = clock.now().getTime();
    for (const [id, leaseEnd] of unrecorded) if (leaseEnd <= now) unrecorded.delete(id);
    return concurrency - inFlight.size - unrecorded.size;
  }

  /** Sends one claimed message and says what became of it (recorded at the next settle). */
  async function deliver(row: OutboxRow): Promise<void> {
    const context = { outboxId: row.id, kind: row.kind, attempt: row.attempts };
    let response: string;
    try {
      ({ response } = await transport.send(row, {
        signal: abort.signal,
        dkim: outbox.signingKeyFor(row) ?? undefined,
        returnPath: returnPathDomain ? bounceAddress(row.id, returnPathDomain) : undefined,
      }));
    } catch (err) {
      outcomes.push(failure(row, err));
      return;
    }
    outcomes.push({ status: 'sent', row, response });
    logger.info(context, 'email sent');
  }

  /** A send (or the check before it) that failed: refused for good, given up, or to be retried after a backoff. */
  function failure(row: DueRow, err: unknown): Outcome {
    const context = { outboxId: row.id, kind: row.kind, attempt: row.attempts };
    const error = describeFailure(err);
    if (isPermanentFailure(err)) {
      logger.warn({ ...context, error: redactText(error) }, 'email refused for good');
      return { status: 'refused', row, error, refusal: refusalOf(err) };
    }
    if (row.attempts >= maxAttempts) {
      logger.error({ ...context, error: redactText(error) }, 'email given up after repeated temporary failures');
      return { status: 'failed', row, error: `gave up after ${row.attempts} attempts: ${error}` };
    }
    const next = new Date(clock.now().getTime() + backoffDelay(row.attempts, backoff, random));
    logger.warn({ ...context, error: redactText(error), nextAttemptAt: next.toISOString() }, 'email failed temporarily; will retry');
    return { status: 'retry', row, error, next };
  }

  /**
   * Records the outcomes waiting and claims exactly as many rows as there are free slots, in one
   * transaction, and starts each claimed row at once: no claimed row waits in memory while its lease
   * runs down, none is left unstarted on stop, and a message's outcome is recorded before its slot is
   * used again (so at most `concurrency` rows are ever claimed and unrecorded: what a crash can resend).
   * `claim` false only records (a stop). Returns false when the transaction failed (the outcomes wait for the next settle).
   */
  function settle(claim = running && !stopping): boolean {
    settleQueued = false;
    const free = claim ? freeSlots() : 0;
    if (outcomes.length === 0 && free <= 0) return true;
    const recording = outcomes.splice(0);
    let settled: Settled;
    try {
      settled = outbox.settle(recording, free, leaseMs);
    } catch (err) {
      outcomes.unshift(...recording);
      logger.error({ err }, 'mail worker could not record sends or claim outbox rows; will try again');
      return false;
    }
    // Claimed rows start first: nothing below may leave one leased and unstarted.
    for (const row of settled.claimed) {
      const sending: Promise<void> = deliver(row)
        .catch((err: unknown) => logger.error({ err, outboxId: row.id }, 'mail worker failed unexpectedly'))
        .finally(() => {
          inFlight.delete(sending);
          if (running && freeSlots() >= claimBatch) settleSoon();
        });
      inFlight.add(sending);
    }
    // The lease runs out and the row is claimed again: at worst sent twice, never lost. Until then it
    // counts against the worker's slots, so claimed-and-unrecorded rows still never exceed its concurrency.
    for (const { outcome, err } of settled.failures) {
      unrecorded.set(outcome.row.id, outcome.row.leaseUntil?.getTime() ?? clock.now().getTime() + leaseMs);
      logger.error({ err, outboxId: outcome.row.id }, `mail worker could not record the message as ${outcome.status}`);
    }
    for (const { row, reason } of settled.withheld) logger.info({ outboxId: row.id, kind: row.kind, reason }, 'email withheld');
    // A check that cannot be made is a temporary failure, like a send that cannot be.
    for (const { row, err } of settled.unchecked) outcomes.push(failure(row, err));
    if (settled.unchecked.length > 0) settleSoon();
    return true;
  }

  /** One settle for every send that finished in this turn of the event loop. */
  function settleSoon(): void {
    if (settleQueued) return;
    settleQueued = true;
    setImmediate(() => settle());
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
        if (running) settle();
      });
      timer = setInterval(() => settle(), pollIntervalMs);
      timer.unref();
      settle();
    },

    /** Look for due rows now (after an enqueue) instead of at the next poll. */
    nudge(): void {
      if (running) settle();
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
        // The last outcomes; if they cannot be recorded, their rows are sent again once their leases run out.
        settle(false);
      } finally {
        clearTimeout(deadline);
        abort = stopSignal();
        stopping = false;
      }
    },

    /** Sends until nothing is due any more (by the worker's clock), without starting the poll: `newsletter send --test-to`. */
    async drain(): Promise<void> {
      for (;;) {
        const ok = settle(true);
        if (inFlight.size === 0 && (outcomes.length === 0 || !ok)) return;
        if (inFlight.size > 0) await Promise.race(inFlight);
      }
    },
  };
}
