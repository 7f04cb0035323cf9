// Scheduled sends, in the server: a timed job starts each draft whose time has come and sends it in the
// background with its own mail worker, exactly as `newsletter send` would (same ledger, same rate, same
// checks before each copy leaves). A pause from the API or the command line stops it within a tick;
// `newsletter resume` carries on. A server that shuts down mid-send leaves the campaign marked sending,
// so once that server is gone it shows as interrupted and the next server's job takes it over.
//
// The job runs every second or so (not every TIMED_JOB_INTERVAL_MS): a campaign sent now from the
// console, or handed over by `newsletter send`, starts at once. Each run is a read of the few scheduled
// campaigns; every HEARTBEAT_MS it also says this process is a live sender (campaigns.senders.ts).
import type { TimedJob } from '../../lib/jobs.js';
import type { Actor } from '../audit/audit.service.js';
import type { Outbox } from '../outbox/outbox.service.js';
import type { MailLogger, MailWorker } from '../outbox/outbox.worker.js';
import type { Cluster } from '../../db/schema.js';
import { HAND_OVER_PIECE, outboxWaiting, sendCampaign } from './campaigns.sender.js';
import { HEARTBEAT_MS, type CampaignsService } from './campaigns.service.js';

const SCHEDULER: Actor = { type: 'system', label: 'scheduled send' };
/** How often the job looks for campaigns due now, at most (TIMED_JOB_INTERVAL_MS when that is shorter). */
export const SCHEDULER_POLL_MS = 1_000;

export function createCampaignScheduler(deps: {
  campaigns: CampaignsService;
  clusterOf: (clusterId: string) => Cluster;
  outbox: Outbox;
  /** A mail worker of its own for each send (started and stopped by the send). */
  newWorker: () => MailWorker;
  concurrency: number;
  logger: MailLogger;
  now: () => Date;
}) {
  const { campaigns, logger } = deps;
  const running = new Map<string, { stop: AbortController; done: Promise<void> }>();
  /** When this process last said it is a live sender (0: never); and whether it has stopped for good. */
  let announcedAt = 0;
  let stopped = false;

  function launch(campaignId: string): void {
    const campaign = campaigns.get(campaignId);
    const stop = new AbortController();
    const done = sendCampaign({
      campaigns,
      campaign,
      rendered: campaigns.render(campaign, deps.clusterOf(campaign.clusterId)),
      worker: deps.newWorker(),
      rate: campaign.rate,
      signal: stop.signal,
      pauseOnStop: false,
      outboxBacklog: () => outboxWaiting(deps.outbox),
      concurrency: deps.concurrency,
      piece: HAND_OVER_PIECE,
    })
      .then(({ stats, stopped }) => logger.info({ campaignId, ...stats, stopped }, 'scheduled send ended'))
      .catch((err: unknown) => logger.error({ err, campaignId }, 'scheduled send failed; it shows as interrupted and is taken over'))
      .finally(() => running.delete(campaignId));
    running.set(campaignId, { stop, done });
  }

  const job: TimedJob = {
    name: 'scheduled-campaigns',
    everyMs: SCHEDULER_POLL_MS,
    run() {
      if (stopped) return 0;
      const now = deps.now().getTime();
      if (now - announcedAt >= HEARTBEAT_MS) {
        try {
          campaigns.senders.announce();
          announcedAt = now;
        } catch (err) {
          // The due campaigns still start; the next run says it again.
          logger.warn({ err }, 'could not say this process sends campaigns');
        }
      }
      const { due, interrupted } = campaigns.dueForScheduler();
      let started = 0;
      for (const campaign of due) {
        if (running.has(campaign.id) || !campaigns.startScheduled(campaign.id, SCHEDULER)) continue;
        launch(campaign.id);
        started++;
      }
      for (const campaign of interrupted) {
        if (running.has(campaign.id) || !campaigns.takeOver(campaign)) continue;
        // Messages a dead sender had claimed go back to the queue (at most those in flight are sent twice).
        campaigns.releaseInterrupted(campaign.id);
        launch(campaign.id);
        started++;
      }
      return started;
    },
  };

  return {
    job,
    /** Campaigns being sent by this process now. */
    sending: () => [...running.keys()],
    /** Stops every send (left marked sending, for the next server to take over) and waits for them. */
    async stop(): Promise<void> {
      stopped = true;
      if (announcedAt > 0) {
        try {
          campaigns.senders.withdraw();
        } catch (err) {
          logger.error({ err }, 'could not withdraw this sender; it counts as gone once its process has exited');
        }
      }
      for (const { stop } of running.values()) stop.abort();
      await Promise.all([...running.values()].map(({ done }) => done));
    },
  };
}
