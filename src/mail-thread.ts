// The server's mail on a thread of its own (MAIL_THREAD, on by default): the outbox's mail worker and the
// scheduled newsletters run there, over the same service graph built on a second database connection,
// so rendering copies, signing them (DKIM) and talking SMTP use another core and never hold up a
// request on the main thread. The main thread tells the thread when it queues mail (so a confirmation
// leaves at once, not at the next poll) and when the server closes. A thread that dies is restarted.
//
// The thread checkpoints the WAL after its own writes, outside the write gate (and every second): SQLite's
// automatic checkpoint runs inside the commit that takes the WAL past 1,000 pages, copying it back into the
// database file and syncing it, and on the thread's commit that is inside the gate, where a request waits
// for it. Kept small this way, the WAL seldom reaches 1,000 pages on a request's commit either, whose own
// automatic checkpoint stays as the backstop (without it, a burst of the server's writes between two of the
// thread's checkpoints let the WAL grow to 60 MB in a soak).
//
// This file is both sides: loaded as the mail thread (the Worker below runs this same file, or in the
// built server the bundle that holds it), it runs the thread; imported, it gives the main thread's handle.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import type { Config } from './config.js';
import {
  autoCheckpoint,
  checkpointAfterWrites,
  checkpointPassive,
  closeDatabase,
  openDatabase,
  shareWriteGate,
  type Sqlite,
} from './db/client.js';
import { newWriteGateMemory, resetGate } from './db/write-gate.js';
import { systemClock } from './lib/clock.js';
import { jobInterval, runJobs } from './lib/jobs.js';
import { loggerOptions } from './lib/logging.js';
import { SILENT_LOGGER, type MailLogger } from './modules/outbox/outbox.worker.js';
import { createServices, type Services } from './services.js';

/** What the main thread hands the mail thread (structured-cloned). */
interface ThreadData {
  convene: 'mail-thread';
  config: Config;
  /** Log as the server does (to stdout at LOG_LEVEL), or not at all. */
  log: boolean;
  /** The write gate shared with the server's connection (src/db/write-gate.ts): the server's requests go first. */
  gate: SharedArrayBuffer;
  /** How often the thread's worker looks for due mail unwoken (the worker's default, 5 s, unless a test sets it). */
  pollIntervalMs?: number;
}

type ToThread = { type: 'nudge' } | { type: 'stop'; graceMs: number };
type FromThread = { type: 'ready' };

/** Restarts of a thread that died wait this long, doubling up to a minute (back to the first after a minute up). */
const FIRST_RESTART_MS = 1_000;
const LONGEST_RESTART_MS = 60_000;
/** On close, the thread gets the sends' grace and this much more before it is ended. */
const STOP_MARGIN_MS = 1_000;
/** How often the thread checkpoints the WAL, and after its own write transactions at most how often. */
const CHECKPOINT_MS = 1_000;
const CHECKPOINT_AFTER_WRITE_MS = 20;

export interface MailThread {
  /** Starts the thread (when the server is ready). */
  start(): void;
  /** Resolves when the thread has built its services and started sending (tests wait for it). */
  ready(): Promise<void>;
  /** Whether the thread is there (started and not yet ended). */
  running(): boolean;
  /** Lets sends in flight finish (aborted after `graceMs`), stops the scheduled sends, and ends the thread. */
  stop(graceMs: number): Promise<void>;
}

/**
 * A thread that runs this file: the built server's bundle (or compiled file) as it is; the TypeScript
 * source (the tests, `npm run dev`, the benchmarks) through tsx, which a thread does not inherit.
 */
function threadOfThisFile(options: { workerData: ThreadData; name: string }): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(new URL(self), options);
  // tsx's ES module API (its CommonJS twin cannot register from a thread): found beside the one require finds.
  const tsx = pathToFileURL(
    createRequire(self)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const start = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(self)}); });`;
  return new Worker(start, { ...options, eval: true });
}

/**
 * The main thread's handle on the mail thread, over the main thread's services: its outbox's enqueues
 * wake the thread, and when the thread dies, what it held is given back at once (outbox, campaigns).
 * `sqlite`, the main thread's connection, shares a write gate with the thread's, its side first.
 */
export function createMailThread(deps: {
  services: Pick<Services, 'config' | 'outbox' | 'campaigns'>;
  sqlite: Sqlite;
  logger: MailLogger;
  log: boolean;
  /** The worker's poll, when not its default (a test that tells a woken send from a polled one). */
  pollIntervalMs?: number;
}): MailThread {
  const { logger } = deps;
  const { config, outbox, campaigns } = deps.services;
  const memory = newWriteGateMemory();
  const gate = shareWriteGate(deps.sqlite, memory, { priority: true });
  let thread: Worker | undefined;
  /** The thread has built its services and started sending. */
  let ready = false;
  let stopping = false;
  let restartIn = FIRST_RESTART_MS;
  let restartTimer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let readyNow: (() => void) | undefined;
  let readyPromise = new Promise<void>((resolve) => (readyNow = resolve));
  const post = (message: ToThread) => thread?.postMessage(message);

  function spawn(): void {
    const data: ThreadData = {
      convene: 'mail-thread',
      config,
      log: deps.log,
      gate: memory,
      ...(deps.pollIntervalMs === undefined ? {} : { pollIntervalMs: deps.pollIntervalMs }),
    };
    const worker = threadOfThisFile({ workerData: data, name: 'convene-mail' });
    const spawned = Date.now();
    thread = worker;
    ready = false;
    worker.on('message', (message: FromThread) => {
      if (message.type !== 'ready') return;
      ready = true;
      readyNow?.();
    });
    worker.on('error', (err) => logger.error({ err }, 'the mail thread failed'));
    worker.on('exit', (code) => {
      if (thread === worker) thread = undefined;
      // A thread ended in the middle of a transaction would leave the gate shut.
      resetGate(gate);
      if (stopping) return;
      // Queued mail waits safely in the outbox. The server's main thread claims no mail and sends no
      // campaign, so what this process holds was the dead thread's: its claimed messages go back to the
      // queue (those in flight may go twice) and its campaigns show as interrupted, for the next thread.
      let released = 0;
      let dropped = 0;
      try {
        released = outbox.releaseOwnClaims();
        dropped = campaigns.dropOwnSends();
      } catch (err) {
        logger.error({ err }, 'what the mail thread held could not be given back; its leases will run out');
      }
      if (Date.now() - spawned >= LONGEST_RESTART_MS) restartIn = FIRST_RESTART_MS;
      logger.error({ code, restartInMs: restartIn, released, interrupted: dropped }, 'the mail thread stopped; restarting it');
      readyPromise = new Promise<void>((resolve) => (readyNow = resolve));
      restartTimer = setTimeout(spawn, restartIn);
      restartTimer.unref();
      restartIn = Math.min(restartIn * 2, LONGEST_RESTART_MS);
    });
  }

  return {
    start() {
      if (thread || stopping) return;
      unsubscribe = outbox.onEnqueued(() => post({ type: 'nudge' }));
      spawn();
    },
    ready: () => readyPromise,
    running: () => thread !== undefined,
    async stop(graceMs) {
      stopping = true;
      clearTimeout(restartTimer);
      unsubscribe?.();
      const worker = thread;
      if (!worker) return;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      // Still loading: it has sent nothing, and waiting for it to load only to stop would hold up the close.
      if (!ready) {
        await worker.terminate();
        await exited;
        return;
      }
      post({ type: 'stop', graceMs });
      // The thread's own stop gives up on sends after graceMs; past that and a margin, it is ended.
      const deadline = setTimeout(() => void worker.terminate(), graceMs + STOP_MARGIN_MS);
      await exited;
      clearTimeout(deadline);
    },
  };
}

/** The thread itself: the service graph on its own connection, the mail worker, and the scheduled sends' job. */
function runThread(data: ThreadData): void {
  const port = parentPort!;
  const { config } = data;
  // Written at once (a thread's last lines would otherwise be lost when it ends).
  const logger: MailLogger = data.log
    ? pino(loggerOptions(config.logLevel), pino.destination({ dest: 1, sync: true })).child({ component: 'mailer', thread: 'mail' })
    : SILENT_LOGGER;
  const database = openDatabase(config.databasePath);
  shareWriteGate(database.sqlite, data.gate, { priority: false });
  autoCheckpoint(database.sqlite, false);
  const checkpointFailed = (err: unknown) => logger.warn({ err }, 'checkpoint failed; the next one tries again');
  checkpointAfterWrites(database.sqlite, CHECKPOINT_AFTER_WRITE_MS, checkpointFailed);
  const checkpoints = setInterval(() => checkpointPassive(database.sqlite, checkpointFailed), CHECKPOINT_MS);
  const services = createServices({ db: database.db, clock: systemClock, config, mail: { logger } });
  const worker = services.mail.worker({ logger, ...(data.pollIntervalMs === undefined ? {} : { pollIntervalMs: data.pollIntervalMs }) });
  worker.start();
  const { job } = services.scheduler;
  const jobs = config.jobs ? setInterval(() => runJobs([job], logger), jobInterval(job, config.jobIntervalMs)) : undefined;

  port.on('message', (message: ToThread) => {
    if (message.type === 'nudge') worker.nudge();
    else if (message.type === 'stop') void stop(message.graceMs);
  });
  port.postMessage({ type: 'ready' } satisfies FromThread);

  async function stop(graceMs: number): Promise<void> {
    clearInterval(jobs);
    clearInterval(checkpoints);
    try {
      // The worker's sends and the scheduled sends stop together, within the grace: what is still being
      // sent after it is left claimed (sent again once its lease runs out: at most those in flight twice).
      const late = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([Promise.all([worker.stop(graceMs), services.close()]), late]);
    } finally {
      closeDatabase(database.sqlite);
      process.exit(0); // in a thread: ends the thread
    }
  }
}

if (!isMainThread && (workerData as Partial<ThreadData> | null)?.convene === 'mail-thread') runThread(workerData as ThreadData);
