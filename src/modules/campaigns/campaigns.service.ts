// Newsletter campaigns: a draft, the recipients snapshotted into a delivery ledger (one row per
// subscriber, ever), then handed to the outbox in batches. Each batch re-checks every recipient and
// writes the outbox rows and the ledger in one transaction, so a crash at any point loses nothing and
// a resume mails nobody twice (except messages that were in flight at the crash).
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { rawPlaceholder, immediate, type Db } from '../../db/client.js';
import { campaigns, deliveries, type Campaign, type Cluster, type Topic } from '../../db/schema.js';
import { problem } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import { hasStopped } from '../../lib/processes.js';
import type { Site } from '../../shared/site.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { Outbox } from '../outbox/outbox.service.js';
import type { SubscribersService } from '../subscribers/subscribers.service.js';
import { forRecipient, renderCampaign, type RenderedCampaign } from './campaigns.render.js';

export type { Campaign };

export interface CampaignDraft {
  subject: string;
  body: string;
  topic?: Topic;
  theme?: string;
  rate?: number;
}

export interface CampaignStats {
  recipients: number;
  /** Not yet handed to the outbox. */
  pending: number;
  /** In the outbox, not yet sent (or being retried). */
  queued: number;
  sent: number;
  failed: number;
  /** Left, or suppressed, by the time their turn came. */
  skipped: number;
}

export const DEFAULT_RATE = 50;
export const MAX_RATE = 5000;
/** Recipients handed to the outbox in one transaction, at most. */
const ROWS_PER_TRANSACTION = 50;
/** Deliveries written in one transaction when a campaign starts. */
const DELIVERIES_PER_TRANSACTION = 1000;

export type CampaignsService = ReturnType<typeof createCampaignsService>;

export function createCampaignsService(deps: {
  db: Db;
  clock: Clock;
  audit: AuditService;
  outbox: Outbox;
  subscribers: SubscribersService;
  site: Site;
}) {
  const { db, clock, audit, outbox } = deps;
  const { host, fromAddress } = deps.site;

  // A send runs beside the server, in another process, and SQLite lets one writer at a time: the
  // server's writes wait (and its event loop with them) while this process holds the lock. So the
  // statements that run once per recipient are prepared, and no transaction handles more than
  // ROWS_PER_TRANSACTION recipients (bench/FINDINGS.md: the mixed soak).
  const insertDelivery = db
    .insert(deliveries)
    .values({ id: rawPlaceholder('id'), campaignId: rawPlaceholder('campaignId'), subscriberId: rawPlaceholder('subscriberId'), email: rawPlaceholder('email'), status: 'pending', createdAt: rawPlaceholder('now') })
    .onConflictDoNothing()
    .prepare();
  const pendingStatement = db
    .select({ n: sql<number>`count(*)` })
    .from(deliveries)
    .where(and(eq(deliveries.campaignId, sql.placeholder('campaignId')), eq(deliveries.status, 'pending')))
    .prepare();
  // The campaign's messages in the outbox, counted there by status.
  const handedOver = db
    .select({ id: deliveries.outboxId })
    .from(deliveries)
    .where(and(eq(deliveries.campaignId, sql.placeholder('campaignId')), eq(deliveries.status, 'enqueued')));
  const outboxCounts = outbox.statusCounter(handedOver);
  const markDelivery = db
    .update(deliveries)
    .set({ status: rawPlaceholder('status'), skipReason: rawPlaceholder('skipReason'), outboxId: rawPlaceholder('outboxId') })
    .where(eq(deliveries.id, sql.placeholder('id')))
    .prepare();

  // An erased person's address leaves the ledger (a placeholder keeps the count); their export lists what they were sent.
  deps.subscribers.hooks.erased.on((tx, subscriber) => {
    tx.update(deliveries).set({ email: 'erased' }).where(eq(deliveries.subscriberId, subscriber.id)).run();
  });
  deps.subscribers.hooks.exported.on((subscriber) => {
    const rows = db.select().from(deliveries).where(eq(deliveries.subscriberId, subscriber.id)).all();
    const sent = outbox.statusOf(rows.flatMap((row) => (row.outboxId ? [row.outboxId] : [])));
    return rows.map((row) => {
      const message = row.outboxId ? sent.get(row.outboxId) : undefined;
      return { campaignId: row.campaignId, status: row.status === 'enqueued' ? (message?.status ?? 'sent') : row.status, sentAt: message?.sentAt ?? null };
    });
  });

  function get(id: string): Campaign {
    const campaign = db.select().from(campaigns).where(eq(campaigns.id, id)).get();
    if (!campaign) throw problem('CAMPAIGN_NOT_FOUND', `There is no campaign ${id}`);
    return campaign;
  }

  function render(campaign: Pick<Campaign, 'subject' | 'bodyMarkdown'>, cluster: Cluster): RenderedCampaign {
    return renderCampaign({ subject: campaign.subject, markdown: campaign.bodyMarkdown, clusterName: cluster.name, listId: `${cluster.slug}.${host}` });
  }

  /** One transaction's worth of enqueueBatch. */
  function enqueueSome(campaign: Campaign, rendered: RenderedCampaign, limit: number): number {
    return immediate(db, (tx) => {
      const batch = tx
        .select()
        .from(deliveries)
        .where(and(eq(deliveries.campaignId, campaign.id), eq(deliveries.status, 'pending')))
        .orderBy(asc(deliveries.id))
        .limit(limit)
        .all();
      const people = deps.subscribers.getMany(tx, batch.flatMap((delivery) => (delivery.subscriberId ? [delivery.subscriberId] : [])));
      for (const delivery of batch) {
        const subscriber = delivery.subscriberId ? people.get(delivery.subscriberId) : undefined;
        let skip: string | null = null;
        if (!subscriber) skip = 'erased';
        else if (subscriber.status !== 'confirmed') skip = subscriber.status;
        else if (!subscriber.topics.includes(campaign.topic)) skip = 'left the topic';
        else if (deps.subscribers.isSuppressed(tx, campaign.clusterId, subscriber.email)) skip = 'suppressed';
        if (skip || !subscriber) {
          markDelivery.run({ id: delivery.id, status: 'skipped', skipReason: skip, outboxId: null });
          continue;
        }
        const message = messageFor(rendered, subscriber.id);
        const outboxId = outbox.enqueue(tx, { kind: 'newsletter', to: subscriber.email, clusterId: campaign.clusterId, ...message });
        markDelivery.run({ id: delivery.id, status: 'enqueued', skipReason: null, outboxId });
      }
      return batch.length;
    });
  }

  function messageFor(rendered: RenderedCampaign, subscriberId: string) {
    return forRecipient(rendered, {
      unsubscribeUrl: deps.subscribers.link('unsubscribe', subscriberId),
      preferencesUrl: deps.subscribers.link('preferences', subscriberId),
      unsubscribeMailto: `mailto:${fromAddress}?subject=${encodeURIComponent(`unsubscribe ${subscriberId}`)}`,
    });
  }

  function checkDraft(cluster: Cluster, draft: CampaignDraft) {
    const rate = draft.rate ?? DEFAULT_RATE;
    if (!Number.isInteger(rate) || rate < 1 || rate > MAX_RATE) throw problem('VALIDATION_FAILED', `rate must be 1 to ${MAX_RATE} messages per second`);
    if (draft.theme !== undefined && !cluster.themes.includes(draft.theme)) throw problem('VALIDATION_FAILED', `theme ${draft.theme} is not one of ${cluster.themes.join(', ')}`);
    const rendered = renderCampaign({ subject: draft.subject, markdown: draft.body, clusterName: cluster.name, listId: `${cluster.slug}.${host}` });
    if (rendered.problems.some((p) => p.endsWith('is empty'))) throw problem('VALIDATION_FAILED', rendered.problems.join('; '));
    return { rate, rendered };
  }

  return {
    get,
    render,
    messageFor,

    /** Who would receive it now (for the confirmation prompt and --dry-run); writes nothing. */
    preview(cluster: Cluster, draft: CampaignDraft, options: { renderAll?: boolean } = {}) {
      const { rendered } = checkDraft(cluster, draft);
      const recipients = deps.subscribers.recipients(db, cluster.id, draft.topic ?? 'newsletter', draft.theme);
      // A dry run renders every message, as a send would, so a problem shows up now rather than halfway
      // through; a real send renders each one when it is handed to the outbox, so it skips this.
      let bytes = 0;
      for (const recipient of options.renderAll ? recipients : []) {
        const message = messageFor(rendered, recipient.id);
        bytes += message.html.length + message.text.length;
      }
      return { recipients: recipients.length, problems: rendered.problems, averageBytes: recipients.length ? Math.round(bytes / recipients.length) : 0, rendered };
    },

    createDraft(cluster: Cluster, draft: CampaignDraft, actor: Actor): Campaign {
      const { rate } = checkDraft(cluster, draft);
      return immediate(db, (tx) => {
        const campaign = tx
          .insert(campaigns)
          .values({ id: newId(), clusterId: cluster.id, subject: draft.subject.trim(), bodyMarkdown: draft.body, topic: draft.topic ?? 'newsletter', theme: draft.theme ?? null, status: 'draft', rate, createdAt: clock.now() })
          .returning()
          .get();
        audit.record(tx, actor, { clusterId: cluster.id, action: 'campaign.created', targetType: 'campaign', targetId: campaign.id, after: { subject: campaign.subject, topic: campaign.topic } });
        return campaign;
      });
    },

    /** Snapshots the recipients (once) and marks the campaign sending. Returns how many there are. */
    start(campaignId: string, actor: Actor): number {
      // Who gets it is read before any write lock is taken (a read does not block the server), and
      // their deliveries go in a slice per transaction; the campaign turns "sending" with the last one.
      // A crash in between leaves a draft, which is never sent. Each recipient is checked again when
      // handed to the outbox. (A campaign's audience cannot change once it is created.)
      const draft = db.select().from(campaigns).where(eq(campaigns.id, campaignId)).get();
      const recipients = draft?.status === 'draft' ? deps.subscribers.recipients(db, draft.clusterId, draft.topic, draft.theme ?? undefined) : [];
      const slices: (typeof recipients)[] = [];
      for (let from = 0; from < recipients.length; from += DELIVERIES_PER_TRANSACTION) slices.push(recipients.slice(from, from + DELIVERIES_PER_TRANSACTION));
      const lastSlice = slices.pop() ?? [];
      const addDeliveries = (slice: typeof recipients, now: Date) => {
        for (const recipient of slice) insertDelivery.run({ id: newId(), campaignId, subscriberId: recipient.id, email: recipient.email, now: now.getTime() });
      };
      for (const slice of slices) immediate(db, () => addDeliveries(slice, clock.now()));
      return immediate(db, (tx) => {
        const campaign = tx.select().from(campaigns).where(eq(campaigns.id, campaignId)).get();
        if (!campaign) throw problem('CAMPAIGN_NOT_FOUND', `There is no campaign ${campaignId}`);
        if (campaign.status === 'sent') throw problem('CAMPAIGN_SENT', 'This campaign has been sent');
        if (campaign.status === 'draft') {
          const now = clock.now();
          addDeliveries(lastSlice, now);
          tx.update(campaigns).set({ status: 'sending', startedAt: now }).where(eq(campaigns.id, campaignId)).run();
          audit.record(tx, actor, { clusterId: campaign.clusterId, action: 'campaign.started', targetType: 'campaign', targetId: campaignId, after: { recipients: recipients.length } });
        } else if (campaign.status === 'paused') {
          tx.update(campaigns).set({ status: 'sending' }).where(eq(campaigns.id, campaignId)).run();
        }
        return tx.select({ n: sql<number>`count(*)` }).from(deliveries).where(eq(deliveries.campaignId, campaignId)).get()!.n;
      });
    },

    /**
     * Hands up to `limit` pending recipients to the outbox, in transactions of at most ROWS_PER_TRANSACTION. Each is checked again
     * first: still confirmed, still on the topic, not suppressed; otherwise it is skipped.
     * Returns how many rows it handled (0: nothing left).
     */
    enqueueBatch(campaign: Campaign, rendered: RenderedCampaign, limit: number): number {
      let handled = 0;
      while (handled < limit) {
        const rows = enqueueSome(campaign, rendered, Math.min(limit - handled, ROWS_PER_TRANSACTION));
        handled += rows;
        if (rows === 0) break;
      }
      return handled;
    },

    /**
     * After a crash: this campaign's messages that a dead sender on this host had claimed ("sending", lease
     * not yet run out) go back to the queue now rather than when their lease expires. Any of them that had in fact
     * reached the mail server are sent again: those are the duplicates a crash can cause.
     */
    releaseInterrupted(campaignId: string): { released: number; heldByLiveProcess: number } {
      const claimed = outbox.claimsAmong(db.select({ id: deliveries.outboxId }).from(deliveries).where(eq(deliveries.campaignId, campaignId)));
      // A claim of a process that may still be sending (another run, the server's worker) is left to
      // that process, or to its lease if it dies: releasing it would mail those people twice.
      const stuck = claimed.filter((row) => hasStopped(row.claimedBy)).map((row) => row.id);
      outbox.release(stuck);
      return { released: stuck.length, heldByLiveProcess: claimed.length - stuck.length };
    },

    /** Recipients not yet handed to the outbox (an index count). */
    pendingCount(campaignId: string): number {
      return pendingStatement.get({ campaignId })!.n;
    },

    /** Messages of this campaign in the outbox and not yet sent or given up. */
    waitingCount(campaignId: string): number {
      const counts = outboxCounts({ campaignId });
      return (counts.queued ?? 0) + (counts.sending ?? 0);
    },

    stats(campaignId: string): CampaignStats {
      const rows = db
        .select({ status: deliveries.status, n: sql<number>`count(*)` })
        .from(deliveries)
        .where(eq(deliveries.campaignId, campaignId))
        .groupBy(deliveries.status)
        .all();
      const count = (status: string) => rows.find((row) => row.status === status)?.n ?? 0;
      const handed = count('enqueued');
      const inOutbox = handed > 0 ? outboxCounts({ campaignId }) : {};
      const queued = (inOutbox.queued ?? 0) + (inOutbox.sending ?? 0);
      const failed = inOutbox.failed ?? 0;
      // A message no longer in the outbox (its person was erased since) counts as sent.
      return { recipients: count('pending') + count('skipped') + handed, pending: count('pending'), queued, sent: handed - queued - failed, failed, skipped: count('skipped') };
    },

    /** Marks the campaign paused (interrupted) or sent (nothing left to hand over). */
    setStatus(campaignId: string, status: 'paused' | 'sent') {
      db.update(campaigns)
        .set({ status, ...(status === 'sent' ? { finishedAt: clock.now() } : {}) })
        .where(eq(campaigns.id, campaignId))
        .run();
    },

    list(cluster: Cluster): Campaign[] {
      return db.select().from(campaigns).where(eq(campaigns.clusterId, cluster.id)).orderBy(desc(campaigns.createdAt), desc(campaigns.id)).all();
    },

  };
}
