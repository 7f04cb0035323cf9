// Sends a started campaign: hands recipients to the outbox at the chosen rate while a mail worker
// delivers them, reports progress, and stops cleanly when asked (the campaign is then paused).
import type { Outbox } from '../outbox/outbox.service.js';
import type { MailWorker } from '../outbox/outbox.worker.js';
import { HEARTBEAT_MS, type Campaign, type CampaignProgress, type CampaignsService, type CampaignStats } from './campaigns.service.js';
import type { RenderedCampaign } from './campaigns.render.js';

export interface SendOptions {
  campaigns: CampaignsService;
  campaign: Campaign;
  rendered: RenderedCampaign;
  worker: MailWorker;
  /** Messages per second handed to the outbox. */
  rate: number;
  /** Called about once a second with the current counts. */
  onProgress?: (progress: CampaignProgress) => void;
  /**
   * Aborted to stop (Ctrl-C). At that instant, synchronously, the worker stops claiming and the campaign's
   * messages still queued go back to the ledger: nothing more leaves but what is in flight.
   */
  signal?: AbortSignal;
  /** Give up waiting for the last messages after this long (they stay queued for the server). */
  drainTimeoutMs?: number;
  /** Messages queued or being sent in the whole outbox (a cheap count, for backpressure). */
  outboxBacklog: () => number;
  /** The worker's concurrency: the outbox is kept to about a tick's worth beyond what the worker is sending. */
  concurrency: number;
  /**
   * Stopped by `signal`, the campaign is marked paused (Ctrl-C: the organiser's choice). false: it stays
   * marked sending, so it shows as interrupted once this process is gone and the next one carries on
   * (a server shutting down in the middle of a scheduled send).
   */
  pauseOnStop?: boolean;
  /**
   * Copies handed over per transaction, with the event loop let go between two. The server's mail thread
   * shares a write gate with the server's requests (src/db/write-gate.ts): a request waits for at most one
   * such transaction, so they are kept short. Another process (`newsletter send`) has no gate: the
   * server's writes wait for its lock in SQLite's busy handler, which a sender taking the lock often keeps
   * out longer, so it hands over a whole tick at once (the default).
   */
  piece?: number;
}

/** What the outbox holds to send (queued or being sent), for SendOptions.outboxBacklog. */
export function outboxWaiting(outbox: Outbox): number {
  const backlog = outbox.backlog();
  return backlog.queued + backlog.sending;
}

const TICK_MS = 200;
/** SendOptions.piece on the server's mail thread. */
export const HAND_OVER_PIECE = 8;
/** Counts that join every delivery of the campaign to the outbox are taken at most this often. */
const STATS_MS = 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function sendCampaign(options: SendOptions): Promise<{ stats: CampaignStats; stopped: boolean; drained: boolean }> {
  const { campaigns, campaign, rendered, worker, signal } = options;
  const perTick = Math.max(1, Math.round((options.rate * TICK_MS) / 1000));
  let stopping: Promise<void> | undefined;
  const brake = () => {
    stopping ??= worker.stop(15_000);
    campaigns.recall(campaign.id);
  };
  // Paused from elsewhere (the API, another process) counts as a stop too: checked every tick.
  let pausedElsewhere = false;
  const stopRequested = () => {
    if (signal?.aborted === true) return true;
    if (!pausedElsewhere && !campaigns.isSending(campaign.id)) {
      pausedElsewhere = true;
      brake();
    }
    return pausedElsewhere;
  };
  if (stopRequested()) brake();
  else {
    signal?.addEventListener('abort', brake, { once: true });
    worker.start();
  }
  let stopped = false;
  let reported = 0;
  let beat = Date.now();
  const report = () => {
    // While it sends, the campaign says so (list and status show a campaign whose sender fell silent as interrupted).
    if (Date.now() - beat >= HEARTBEAT_MS) {
      beat = Date.now();
      campaigns.heartbeat(campaign.id);
    }
    if (!options.onProgress || Date.now() - reported < STATS_MS) return;
    reported = Date.now();
    options.onProgress(campaigns.progress(campaign.id));
  };
  try {
    // Hand over at the rate: perTick rows every TICK_MS, never more than the worker can keep up with.
    for (;;) {
      if (stopRequested()) {
        stopped = true;
        break;
      }
      const started = Date.now();
      report();
      if (campaigns.pendingCount(campaign.id) === 0) break;
      // Backpressure: the outbox holds at most one tick's worth beyond what the worker is sending, so a
      // slow mail server leaves the rest in the ledger (a pause or an unsubscribe acts on it at once).
      let room = Math.min(perTick, perTick + 2 * options.concurrency - options.outboxBacklog());
      // A tick's worth goes in pieces (options.piece), with the event loop let go between them; a stop or a
      // pause that comes in between two pieces is seen before the next one.
      let emptied = false;
      while (room > 0 && !stopped) {
        const handled = campaigns.enqueueBatch(campaign, rendered, Math.min(room, options.piece ?? room));
        worker.nudge();
        if (handled === 0) emptied = true;
        room = handled === 0 ? 0 : room - handled;
        if (room > 0) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          stopped = stopRequested();
        }
      }
      if (emptied || stopped) break;
      await sleep(Math.max(0, TICK_MS - (Date.now() - started)));
    }
    // Then wait for the messages already handed over (unless stopped: the worker finishes its own).
    let drained = false;
    const deadline = Date.now() + (options.drainTimeoutMs ?? 10 * 60_000);
    let checked = 0;
    while (!stopped && Date.now() < deadline) {
      report();
      // Counting the campaign's unsent messages joins every delivery to the outbox: once a second.
      if (Date.now() - checked >= STATS_MS) {
        checked = Date.now();
        if (campaigns.waitingCount(campaign.id) === 0) {
          drained = true;
          break;
        }
      }
      if (stopRequested()) {
        stopped = true;
        break;
      }
      await sleep(TICK_MS);
    }
    const stats = campaigns.stats(campaign.id);
    // Paused elsewhere: it is marked paused already. Stopped here: paused, unless the next process is to take it over.
    if (!stopped) campaigns.setStatus(campaign.id, stats.pending > 0 ? 'paused' : 'sent');
    else if (!pausedElsewhere && options.pauseOnStop !== false) campaigns.setStatus(campaign.id, 'paused');
    return { stats, stopped, drained };
  } finally {
    signal?.removeEventListener('abort', brake);
    // Lets the messages being sent right now finish and be recorded.
    await (stopping ?? worker.stop(15_000));
  }
}
