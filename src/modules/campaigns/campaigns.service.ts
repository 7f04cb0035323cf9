// Newsletter campaigns: a draft, the recipients snapshotted into a delivery ledger (one row per
// subscriber, ever), then handed to the outbox in batches. Each batch re-checks every recipient and
// writes the outbox rows and the ledger in one transaction, so a crash at any point loses nothing and
// a resume mails nobody twice (except messages that were in flight at the crash).
import { and, desc, eq, inArray, isNotNull, isNull, or, sql } from 'drizzle-orm';
import { immediate, type Db } from '../../db/client.js';
import { campaigns, type Campaign, type CampaignStatus, type Cluster, type Topic } from '../../db/schema.js';
import { isAppError, problem } from '../../errors.js';
import { chunks } from '../../lib/chunks.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import { hasStopped, thisProcess } from '../../lib/processes.js';
import type { Site } from '../../shared/site.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { Outbox } from '../outbox/outbox.service.js';
import type { SubscribersService } from '../subscribers/subscribers.service.js';
import { resolveTime } from '../huddles/huddles.time.js';
import { createDeliveries } from './campaigns.deliveries.js';
import { createSenders } from './campaigns.senders.js';
import { renderCampaign, type RenderedCampaign } from './campaigns.render.js';

export type { Campaign };

export interface CampaignDraft {
  subject: string;
  body: string;
  topic?: Topic;
  theme?: string;
  rate?: number;
}

export type { CampaignProgress, CampaignStats } from './campaigns.deliveries.js';

export const DEFAULT_RATE = 50;
export const MAX_RATE = 5000;
/** A sender says it is still sending this often... */
export const HEARTBEAT_MS = 5_000;
/** ...and one silent for this long has stopped (hung, or on another host and gone), though nobody paused it. */
export const SENDER_LEASE_MS = 30_000;

/** What organisers are shown: "interrupted" is a campaign marked sending that nobody is sending (resume carries on). */
export type CampaignState = CampaignStatus | 'interrupted';

/** How far ahead a campaign may be scheduled. */
export const MAX_SCHEDULE_AHEAD_MS = 366 * 86_400_000;

/**
 * Deliveries written in one transaction when a campaign starts: a few milliseconds' worth, since a
 * request on the server waits for the whole of one (1,000 took up to 20 ms; bench/FINDINGS.md).
 */
const DELIVERIES_PER_TRANSACTION = 250;

export type CampaignsService = ReturnType<typeof createCampaignsService>;

export function createCampaignsService(deps: {
  db: Db;
  clock: Clock;
  audit: AuditService;
  outbox: Outbox;
  subscribers: SubscribersService;
  site: Site;
  /** A cluster (its zone: a schedule without an offset is local time there; its name, in every copy). */
  clusterOf: (clusterId: string) => Cluster;
}) {
  const { db, clock, audit, outbox } = deps;
  const { host, baseUrl } = deps.site;

  const ledger = createDeliveries({ db, outbox, subscribers: deps.subscribers, site: deps.site, renderedOf });
  /** Started campaigns as rendered for their copies (a campaign's text is fixed once it starts), by id; a few at a time. */
  const renderings = new Map<string, { rendered: RenderedCampaign; of: Cluster }>();
  const MAX_RENDERINGS = 16;

  /** A campaign rendered for sending; made again when its cluster has changed (a new name goes in the next copy). */
  function renderedOf(campaignId: string): RenderedCampaign {
    const kept = renderings.get(campaignId);
    if (kept) {
      const now = deps.clusterOf(kept.of.id);
      if (now.name === kept.of.name && now.slug === kept.of.slug) return kept.rendered;
    }
    const campaign = get(campaignId);
    const cluster = deps.clusterOf(campaign.clusterId);
    const rendered = render(campaign, cluster);
    if (renderings.size >= MAX_RENDERINGS) renderings.clear();
    renderings.set(campaignId, { rendered, of: cluster });
    return rendered;
  }
  const isSendingStatement = db
    .select({ id: campaigns.id })
    .from(campaigns)
    .where(and(eq(campaigns.id, sql.placeholder('id')), eq(campaigns.status, 'sending'), eq(campaigns.sender, thisProcess)))
    .prepare();

  function get(id: string): Campaign {
    const campaign = db.select().from(campaigns).where(eq(campaigns.id, id)).get();
    if (!campaign) throw problem('CAMPAIGN_NOT_FOUND', `There is no campaign ${id}`);
    return campaign;
  }

  /** The campaign's sender and last heartbeat are still the ones `seen` had. */
  function sameSenderAs(seen: Campaign) {
    return and(
      seen.sender === null ? isNull(campaigns.sender) : eq(campaigns.sender, seen.sender),
      seen.heartbeatAt === null ? isNull(campaigns.heartbeatAt) : eq(campaigns.heartbeatAt, seen.heartbeatAt),
    );
  }

  function render(campaign: Pick<Campaign, 'subject' | 'bodyMarkdown'>, cluster: Cluster): RenderedCampaign {
    return renderCampaign({
      subject: campaign.subject,
      markdown: campaign.bodyMarkdown,
      clusterName: cluster.name,
      listId: `${cluster.slug}.${host}`,
      baseUrl,
    });
  }

  /** A draft's settings and its rendering; `forSend` refuses every blocking problem, not only an empty subject or body. */
  function checkDraft(cluster: Cluster, draft: CampaignDraft, forSend: boolean) {
    const rate = draft.rate ?? DEFAULT_RATE;
    if (!Number.isInteger(rate) || rate < 1 || rate > MAX_RATE)
      throw problem('VALIDATION_FAILED', `rate must be 1 to ${MAX_RATE} messages per second`);
    if (draft.theme !== undefined && !cluster.themes.includes(draft.theme))
      throw problem('VALIDATION_FAILED', `theme ${draft.theme} is not one of ${cluster.themes.join(', ')}`);
    const rendered = render({ subject: draft.subject, bodyMarkdown: draft.body }, cluster);
    const refused = forSend ? rendered.blocking : rendered.blocking.filter((p) => p.endsWith('is empty'));
    if (refused.length > 0) throw problem('VALIDATION_FAILED', refused.join('; '));
    return { rate, rendered };
  }

  /** A schedule's instant: local time in the cluster's zone (or with an offset), in the future, within MAX_SCHEDULE_AHEAD_MS. */
  function scheduleTime(at: string, clusterId: string): Date {
    const when = resolveTime(at.trim().replace(' ', 'T'), deps.clusterOf(clusterId).timezone, 'at').toJSDate();
    const now = clock.now().getTime();
    if (when.getTime() <= now || when.getTime() > now + MAX_SCHEDULE_AHEAD_MS)
      throw problem('VALIDATION_FAILED', `at must be in the next ${MAX_SCHEDULE_AHEAD_MS / 86_400_000} days, not ${when.toISOString()}`, {
        errors: [{ field: 'body/at', message: when.getTime() <= now ? 'is in the past' : 'is too far ahead' }],
      });
    return when;
  }

  const service = {
    get,
    /** The campaign with this id, or undefined. */
    find: (id: string): Campaign | undefined => db.select().from(campaigns).where(eq(campaigns.id, id)).get(),
    render,
    scheduleTime,
    /** The servers sending scheduled campaigns now, which `newsletter send` hands its campaign to. */
    senders: createSenders({ db, clock, leaseMs: SENDER_LEASE_MS }),

    /** Sending, or interrupted: its sender has exited (on this host) or has not been heard of for SENDER_LEASE_MS. */
    state(campaign: Campaign): CampaignState {
      if (campaign.status !== 'sending') return campaign.status;
      const silentFor = campaign.heartbeatAt ? clock.now().getTime() - campaign.heartbeatAt.getTime() : Infinity;
      const gone = campaign.sender === null || hasStopped(campaign.sender) || silentFor > SENDER_LEASE_MS;
      return gone ? 'interrupted' : 'sending';
    },

    /** The sender (this process) says it is still at work; every HEARTBEAT_MS while it sends. */
    heartbeat(campaignId: string): void {
      // In immediate() like every write, so it takes the write gate the server shares with its mail thread.
      immediate(db, (tx) =>
        tx
          .update(campaigns)
          .set({ heartbeatAt: clock.now() })
          .where(and(eq(campaigns.id, campaignId), eq(campaigns.status, 'sending'), eq(campaigns.sender, thisProcess)))
          .run(),
      );
    },

    /**
     * The campaigns this process was sending show as interrupted at once (its mail thread died), so the
     * next sender takes them over without waiting for their heartbeat to go silent. Returns how many.
     */
    dropOwnSends(): number {
      return immediate(
        db,
        (tx) =>
          tx
            .update(campaigns)
            .set({ heartbeatAt: null })
            .where(and(eq(campaigns.status, 'sending'), eq(campaigns.sender, thisProcess)))
            .run().changes,
      );
    },
    messageFor: ledger.messageFor,

    /**
     * Who would receive it now (for the confirmation prompt and --dry-run); writes nothing. Reports
     * problems rather than refusing them, except an empty subject or body.
     */
    preview(cluster: Cluster, draft: CampaignDraft, options: { renderAll?: boolean } = {}) {
      const { rendered } = checkDraft(cluster, draft, false);
      const recipients = deps.subscribers.recipients(db, cluster.id, draft.topic ?? 'newsletter', draft.theme);
      // A dry run renders every message, as a send would, so a problem shows up now rather than halfway
      // through; a real send renders each one as it leaves (outbox.compose), so it skips this.
      let bytes = 0;
      let first: { to: string; subject: string; text: string } | null = null;
      for (const recipient of options.renderAll ? recipients : []) {
        const message = ledger.messageFor(rendered, recipient);
        first ??= { to: recipient.email, subject: message.subject, text: message.text };
        bytes += message.html.length + message.text.length;
      }
      return {
        recipients: recipients.length,
        problems: rendered.problems,
        blocking: rendered.blocking,
        averageBytes: recipients.length ? Math.round(bytes / recipients.length) : 0,
        /** The first recipient's copy as they would read it (only when every message was rendered). */
        first,
        rendered,
      };
    },

    createDraft(cluster: Cluster, draft: CampaignDraft, actor: Actor): Campaign {
      const { rate } = checkDraft(cluster, draft, true);
      return immediate(db, (tx) => {
        const campaign = tx
          .insert(campaigns)
          .values({
            id: newId(),
            clusterId: cluster.id,
            subject: draft.subject.trim(),
            bodyMarkdown: draft.body,
            topic: draft.topic ?? 'newsletter',
            theme: draft.theme ?? null,
            status: 'draft',
            rate,
            createdAt: clock.now(),
          })
          .returning()
          .get();
        audit.record(tx, actor, {
          clusterId: cluster.id,
          action: 'campaign.created',
          targetType: 'campaign',
          targetId: campaign.id,
          after: { subject: campaign.subject, topic: campaign.topic },
        });
        return campaign;
      });
    },

    /** Changes a draft (subject, body, topic, theme, rate), refused once it has started; the same checks as a new one. */
    updateDraft(cluster: Cluster, campaignId: string, draft: CampaignDraft, actor: Actor): Campaign {
      const campaign = get(campaignId);
      if (campaign.clusterId !== cluster.id) throw problem('CAMPAIGN_NOT_FOUND', `There is no campaign ${campaignId}`);
      const { rate } = checkDraft(cluster, { ...draft, rate: draft.rate ?? campaign.rate }, true);
      return immediate(db, (tx) => {
        const changed = tx
          .update(campaigns)
          .set({
            subject: draft.subject.trim(),
            bodyMarkdown: draft.body,
            topic: draft.topic ?? 'newsletter',
            theme: draft.theme ?? null,
            rate,
          })
          .where(and(eq(campaigns.id, campaignId), eq(campaigns.status, 'draft')))
          .returning()
          .get();
        if (!changed) throw problem('CAMPAIGN_STARTED', 'This campaign has started: it can no longer be changed');
        audit.record(tx, actor, {
          clusterId: changed.clusterId,
          action: 'campaign.updated',
          targetType: 'campaign',
          targetId: changed.id,
          before: { subject: campaign.subject, topic: campaign.topic },
          after: { subject: changed.subject, topic: changed.topic },
        });
        return changed;
      });
    },

    /**
     * Schedules a draft to be started by the server's scheduler at `at` (null: not scheduled any more).
     * `at` is an ISO time with an offset, or a local date and time in the cluster's zone.
     */
    schedule(campaignId: string, at: string | null, actor: Actor): Campaign {
      const campaign = get(campaignId);
      const when = at === null ? null : scheduleTime(at, campaign.clusterId);
      return immediate(db, (tx) => {
        const changed = tx
          .update(campaigns)
          .set({ scheduledAt: when })
          .where(and(eq(campaigns.id, campaignId), eq(campaigns.status, 'draft')))
          .returning()
          .get();
        if (!changed) throw problem('CAMPAIGN_STARTED', 'This campaign has started: pause or resume it instead');
        audit.record(tx, actor, {
          clusterId: changed.clusterId,
          action: when ? 'campaign.scheduled' : 'campaign.unscheduled',
          targetType: 'campaign',
          targetId: changed.id,
          before: { scheduledAt: campaign.scheduledAt?.toISOString() ?? null },
          after: { scheduledAt: when?.toISOString() ?? null },
        });
        return changed;
      });
    },

    /**
     * Sends a draft now through the server's scheduler (the console's Send; `newsletter send` is the
     * other way): it is scheduled for this instant, and the server's next scheduler run starts it.
     */
    sendNow(cluster: Cluster, campaignId: string, actor: Actor): Campaign {
      const campaign = get(campaignId);
      if (campaign.clusterId !== cluster.id) throw problem('CAMPAIGN_NOT_FOUND', `There is no campaign ${campaignId}`);
      checkDraft(cluster, { subject: campaign.subject, body: campaign.bodyMarkdown }, true);
      return immediate(db, (tx) => {
        const now = clock.now();
        const changed = tx
          .update(campaigns)
          .set({ scheduledAt: now })
          .where(and(eq(campaigns.id, campaignId), eq(campaigns.status, 'draft')))
          .returning()
          .get();
        if (!changed) throw problem('CAMPAIGN_STARTED', 'This campaign has started: pause it, or resume it');
        audit.record(tx, actor, {
          clusterId: changed.clusterId,
          action: 'campaign.scheduled',
          targetType: 'campaign',
          targetId: changed.id,
          before: { scheduledAt: campaign.scheduledAt?.toISOString() ?? null },
          after: { scheduledAt: now.toISOString(), now: true },
        });
        return changed;
      });
    },

    /**
     * Resumes a paused or interrupted campaign through the server's scheduler (`newsletter resume` while
     * a server runs): it is marked sending with no sender, which shows as interrupted until a server's
     * scheduler takes it over (within a second or so) and carries on; nobody is mailed twice.
     */
    resumeOnServer(campaignId: string, actor: Actor): Campaign {
      const campaign = get(campaignId);
      if (service.state(campaign) === 'sending')
        throw problem('CAMPAIGN_STARTED', `This campaign is being sent now (by ${campaign.sender ?? 'another process'})`);
      // Interrupted: only while its sender is still the silent one seen (a process taking it over meanwhile keeps it).
      const stillInterrupted = and(eq(campaigns.status, 'sending'), sameSenderAs(campaign));
      return immediate(db, (tx) => {
        const changed = tx
          .update(campaigns)
          .set({ status: 'sending', sender: null, heartbeatAt: null, scheduledAt: campaign.scheduledAt ?? clock.now() })
          .where(and(eq(campaigns.id, campaignId), or(eq(campaigns.status, 'paused'), stillInterrupted)))
          .returning()
          .get();
        if (!changed)
          throw problem('CAMPAIGN_NOT_SENDING', `This campaign is ${campaign.status}: only a paused or interrupted one resumes`);
        audit.record(tx, actor, {
          clusterId: changed.clusterId,
          action: 'campaign.resumed',
          targetType: 'campaign',
          targetId: changed.id,
          before: { state: service.state(campaign) },
        });
        return changed;
      });
    },

    /**
     * One copy to one address (the organiser's own), its subject marked as a test; its unsubscribe and
     * preferences links are a stand-in's, not any subscriber's. Goes through the outbox like any mail.
     */
    sendTest(cluster: Cluster, campaignId: string, to: string, actor: Actor): void {
      const campaign = get(campaignId);
      if (campaign.clusterId !== cluster.id) throw problem('CAMPAIGN_NOT_FOUND', `There is no campaign ${campaignId}`);
      const message = ledger.messageFor(render(campaign, cluster), { id: campaign.id, name: null });
      immediate(db, (tx) => {
        outbox.enqueue(tx, {
          kind: 'newsletter.test',
          to,
          clusterId: campaign.clusterId,
          ...message,
          subject: `[Test] ${message.subject}`,
        });
        audit.record(tx, actor, {
          clusterId: campaign.clusterId,
          action: 'campaign.tested',
          targetType: 'campaign',
          targetId: campaign.id,
          after: { to },
        });
      });
    },

    /** Drafts whose scheduled time has come, and scheduled campaigns whose sender has stopped (a server restarted mid-send). */
    dueForScheduler(): { due: Campaign[]; interrupted: Campaign[] } {
      const rows = db
        .select()
        .from(campaigns)
        .where(and(isNotNull(campaigns.scheduledAt), inArray(campaigns.status, ['draft', 'sending'])))
        .all();
      const now = clock.now().getTime();
      return {
        due: rows.filter((c) => c.status === 'draft' && c.scheduledAt!.getTime() <= now),
        interrupted: rows.filter((c) => c.status === 'sending' && service.state(c) === 'interrupted'),
      };
    },

    /**
     * This process takes over an interrupted campaign, unless another did first (the sender and its last
     * heartbeat are still the ones `seen` had). Returns whether it did.
     */
    takeOver(seen: Campaign): boolean {
      return immediate(
        db,
        (tx) =>
          tx
            .update(campaigns)
            .set({ sender: thisProcess, heartbeatAt: clock.now() })
            .where(and(eq(campaigns.id, seen.id), eq(campaigns.status, 'sending'), sameSenderAs(seen)))
            .run().changes > 0,
      );
    },

    /**
     * Still marked sending, by this process: a pause from anywhere (the API, another process), or another
     * process taking it over (a resume through the server), turns this false within a tick of the sender.
     */
    isSending(campaignId: string): boolean {
      return isSendingStatement.get({ id: campaignId }) !== undefined;
    },

    /**
     * Pauses a campaign being sent, by whichever process: it is marked paused, and its messages still
     * waiting in the outbox go back to the ledger at once; its sender stops within a tick. Resume carries on.
     */
    pause(campaignId: string, actor: Actor): Campaign {
      const paused = immediate(db, (tx) => {
        const changed = tx
          .update(campaigns)
          .set({ status: 'paused' })
          .where(and(eq(campaigns.id, campaignId), eq(campaigns.status, 'sending')))
          .returning()
          .get();
        if (!changed) {
          const campaign = get(campaignId);
          throw problem('CAMPAIGN_NOT_SENDING', `This campaign is ${campaign.status}, not being sent`);
        }
        audit.record(tx, actor, { clusterId: changed.clusterId, action: 'campaign.paused', targetType: 'campaign', targetId: changed.id });
        return changed;
      });
      ledger.recall(campaignId);
      return paused;
    },

    /**
     * Snapshots the recipients (once) and marks the campaign sending. Returns how many there are.
     * `dueBy` (the scheduler's start): only a draft still scheduled at or before then starts; one
     * unscheduled while its recipients were being written stays a draft (the start is refused).
     */
    start(campaignId: string, actor: Actor, dueBy?: Date): number {
      // Who gets it is read before any write lock is taken (a read does not block the server), and
      // their deliveries go in a slice per transaction; the campaign turns "sending" with the last one.
      // A crash in between leaves a draft, which is never sent. Each recipient is checked again when
      // handed to the outbox. (A campaign's audience cannot change once it is created.)
      const draft = db.select().from(campaigns).where(eq(campaigns.id, campaignId)).get();
      const recipients =
        draft?.status === 'draft' ? deps.subscribers.recipients(db, draft.clusterId, draft.topic, draft.theme ?? undefined) : [];
      const slices = [...chunks(recipients, DELIVERIES_PER_TRANSACTION)];
      const lastSlice = slices.pop() ?? [];
      for (const slice of slices) immediate(db, (tx) => ledger.add(tx, campaignId, slice, clock.now()));
      return immediate(db, (tx) => {
        const campaign = tx.select().from(campaigns).where(eq(campaigns.id, campaignId)).get();
        if (!campaign) throw problem('CAMPAIGN_NOT_FOUND', `There is no campaign ${campaignId}`);
        if (campaign.status === 'sent') throw problem('CAMPAIGN_SENT', 'This campaign has been sent');
        if (dueBy && (campaign.status !== 'draft' || campaign.scheduledAt === null || campaign.scheduledAt > dueBy)) {
          throw problem('CAMPAIGN_NOT_SENDING', 'This campaign is no longer scheduled to start now');
        }
        if (campaign.status === 'draft') {
          const now = clock.now();
          ledger.add(tx, campaignId, lastSlice, now);
          tx.update(campaigns)
            .set({ status: 'sending', startedAt: now, sender: thisProcess, heartbeatAt: now })
            .where(eq(campaigns.id, campaignId))
            .run();
          audit.record(tx, actor, {
            clusterId: campaign.clusterId,
            action: 'campaign.started',
            targetType: 'campaign',
            targetId: campaignId,
            after: { recipients: recipients.length },
          });
        } else {
          // Resumed (paused or interrupted): this process is its sender now, unless another has just taken
          // it up (a server's scheduler, after a resume through the server).
          if (service.state(campaign) === 'sending' && campaign.sender !== thisProcess)
            throw problem('CAMPAIGN_STARTED', `This campaign is being sent now (by ${campaign.sender})`);
          tx.update(campaigns)
            .set({ status: 'sending', sender: thisProcess, heartbeatAt: clock.now() })
            .where(eq(campaigns.id, campaignId))
            .run();
        }
        return ledger.count(campaignId);
      });
    },

    enqueueBatch: ledger.handOver,
    releaseInterrupted: ledger.releaseInterrupted,
    recall: ledger.recall,
    pendingCount: ledger.pendingCount,
    waitingCount: ledger.waitingCount,
    progress: ledger.progress,
    stats: ledger.stats,
    markReturned: ledger.markReturned,

    /** Marks the campaign paused (interrupted) or sent (nothing left to hand over). */
    setStatus(campaignId: string, status: 'paused' | 'sent') {
      immediate(db, (tx) =>
        tx
          .update(campaigns)
          .set({ status, ...(status === 'sent' ? { finishedAt: clock.now() } : {}) })
          .where(eq(campaigns.id, campaignId))
          .run(),
      );
    },

    /** The scheduler's start: like start, but only a draft (a campaign another server started already is left to it); false if not. */
    startScheduled(campaignId: string, actor: Actor): boolean {
      const campaign = db.select({ status: campaigns.status }).from(campaigns).where(eq(campaigns.id, campaignId)).get();
      if (campaign?.status !== 'draft') return false;
      try {
        service.start(campaignId, actor, clock.now());
      } catch (error) {
        if (isAppError(error)) return false;
        throw error;
      }
      return true;
    },

    list(cluster: Cluster): Campaign[] {
      return db
        .select()
        .from(campaigns)
        .where(eq(campaigns.clusterId, cluster.id))
        .orderBy(desc(campaigns.createdAt), desc(campaigns.id))
        .all();
    },
  };
  return service;
}
