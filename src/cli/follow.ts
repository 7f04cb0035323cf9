// What `newsletter send` shows while a campaign goes out, and how it follows one that a running server
// sends for it: the same progress bar (or lines), and Ctrl-C pauses the campaign either way.
import { SingleBar } from 'cli-progress';
import { isAppError } from '../errors.js';
import type { Campaign, CampaignProgress, CampaignStats } from '../modules/campaigns/campaigns.service.js';
import type { Services } from '../services.js';
import { CliFailure } from './db.js';
import { cliActor, type CliContext } from './context.js';

export function statsLine(stats: CampaignProgress): string {
  return (
    `${stats.sent} sent, ${stats.queued} queued, ${stats.pending} waiting, ${stats.failed} failed, ${stats.skipped} skipped of ` +
    `${stats.recipients}` +
    (stats.bounced + stats.softBounced + stats.complained > 0
      ? `; since sent: ${stats.bounced} bounced, ${stats.softBounced} soft-bounced, ${stats.complained} complained`
      : '')
  );
}

/** A progress bar on a terminal, a line every two seconds otherwise, nothing with --json. */
export function progressDisplay(context: CliContext, json: boolean, total: number) {
  const bar =
    context.io.isTTY && !json
      ? new SingleBar({
          format: 'sending {bar} {value}/{total} | {failed} failed, {skipped} skipped | ETA {eta_formatted}',
          hideCursor: true,
        })
      : undefined;
  bar?.start(total, 0, { failed: 0, skipped: 0 });
  let lastLine = 0;
  return {
    update(stats: CampaignProgress): void {
      if (stats.recipients !== total) bar?.setTotal((total = stats.recipients));
      if (bar) bar.update(stats.sent + stats.failed + stats.skipped, { failed: stats.failed, skipped: stats.skipped });
      else if (!json && Date.now() - lastLine >= 2000) {
        lastLine = Date.now();
        context.io.stdout(`${statsLine(stats)}\n`);
      }
    },
    stop: () => bar?.stop(),
  };
}

/**
 * Until `stop` is aborted, Ctrl-C (or SIGTERM) aborts it with a word on stderr; a second one quits at
 * once. Returns the function that lets the signals go again.
 */
export function stopOnSignal(context: CliContext, stop: AbortController, what: string): () => void {
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(130);
    context.io.stderr(`\nstopping: ${what} (Ctrl-C again to quit at once)\n`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** How often a campaign sent by a server is looked at (its figures join every delivery to the outbox). */
const FOLLOW_POLL_MS = 1_000;
/** A server's scheduler looks for campaigns due every second or so; one that has not started it by then is not coming. */
const START_WAIT_MS = 15_000;
/** Once all is handed over, how long the last messages are waited for (the server carries on after). */
const DRAIN_WAIT_MS = 30_000;

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * Follows a campaign that `server` (a running server's scheduler) was asked to send now: its progress
 * until it is sent, or paused (here by Ctrl-C, or by anyone from the console or API). The writes are the
 * server's; this process only reads, so the server's requests never wait for a second process's lock.
 */
export async function followOnServer(
  context: CliContext,
  services: Services,
  campaignId: string,
  server: string,
  json: boolean,
): Promise<{ stats: CampaignStats; stopped: boolean; drained: boolean }> {
  const { campaigns } = services;
  const stop = new AbortController();
  const release = stopOnSignal(context, stop, 'pausing the send on the server');
  const display = progressDisplay(context, json, campaigns.progress(campaignId).recipients);
  /** Since when it has waited to be taken up (a draft due now, or interrupted), if it is waiting. */
  let waitingSince: number | undefined = Date.now();
  let sentAt: number | undefined;
  try {
    for (;;) {
      let campaign = campaigns.get(campaignId);
      if (stop.signal.aborted) {
        if (campaign.status === 'draft') {
          if (unschedule(services, campaignId))
            throw new CliFailure(`not sent: stopped before the server started it (campaign ${campaignId} stays a draft)`);
          campaign = campaigns.get(campaignId); // the server started it meanwhile: it is paused below
        }
        try {
          if (campaign.status === 'sending') campaigns.pause(campaignId, cliActor());
        } catch (error) {
          // It was paused, or finished, meanwhile.
          if (!isAppError(error) || error.code !== 'CAMPAIGN_NOT_SENDING') throw error;
        }
        return { stats: campaigns.stats(campaignId), stopped: campaigns.get(campaignId).status === 'paused', drained: false };
      }
      const state = campaigns.state(campaign);
      // Not taken up yet: a draft due now, or a campaign nobody sends (resumed through the server, or its
      // sender died: a server's scheduler takes it over within a second or so).
      const waiting = state === 'draft' || state === 'interrupted';
      waitingSince = waiting ? (waitingSince ?? Date.now()) : undefined;
      if (waitingSince !== undefined && Date.now() - waitingSince > START_WAIT_MS) {
        takeBack(services, campaign, server);
        waitingSince = undefined; // the server started it at that moment: followed on
      }
      if (state === 'paused') return { stats: campaigns.stats(campaignId), stopped: true, drained: false };
      if (!waiting) {
        const progress = campaigns.progress(campaignId);
        display.update(progress);
        if (state === 'sent') {
          sentAt ??= Date.now();
          if (progress.queued === 0 || Date.now() - sentAt > DRAIN_WAIT_MS)
            return { stats: campaigns.stats(campaignId), stopped: false, drained: progress.queued === 0 };
        }
      }
      await pause(FOLLOW_POLL_MS, stop.signal);
    }
  } finally {
    display.stop();
    release();
  }
}

/** Takes a draft's "due now" back; false if the server started it first. */
function unschedule(services: Services, campaignId: string): boolean {
  try {
    services.campaigns.schedule(campaignId, null, cliActor());
    return true;
  } catch (error) {
    if (isAppError(error) && error.code === 'CAMPAIGN_STARTED') return false;
    throw error;
  }
}

/**
 * No server took the campaign up in time (the one seen has stopped, or its scheduler is stuck): it is
 * taken back (a draft unscheduled, a campaign nobody sends paused), so it does not go out days later
 * when some server starts, and the organiser is told how to send it from here. Returns (nothing taken
 * back) only when a server took it up at that very moment.
 */
function takeBack(services: Services, campaign: Campaign, server: string): void {
  const { campaigns } = services;
  const id = campaign.id;
  const late = `the server (${server}) has not taken up campaign ${id} within ${START_WAIT_MS / 1000} s`;
  if (campaign.status === 'draft') {
    if (!unschedule(services, id)) return;
    throw new CliFailure(`${late}; it stays a draft. Send it from here with: convene newsletter send --here, or from the console`);
  }
  if (campaigns.state(campaigns.get(id)) === 'sending') return; // taken over at that very moment
  try {
    campaigns.pause(id, cliActor());
  } catch (error) {
    if (!isAppError(error) || error.code !== 'CAMPAIGN_NOT_SENDING') throw error;
  }
  throw new CliFailure(`${late}; it is paused. Carry on from here with: convene newsletter resume ${id} --here`);
}
