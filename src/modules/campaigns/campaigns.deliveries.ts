// A campaign's delivery ledger: one row per recipient, snapshotted when it starts, each handed to the
// outbox in its turn after a last check of the person's consent, and the counts of how far it got.
// A copy's body is not stored: the outbox asks for it as the message leaves (`compose`), and it is made
// from the campaign and the person as they are then (their own links, their name where it is merged).
// A send runs beside the server, in another process, and SQLite lets one writer at a time: the
// server's writes wait (and its event loop with them) while this process holds the lock. So the
// statements that run once per recipient are prepared, and no transaction handles more than
// ROWS_PER_TRANSACTION recipients (bench/FINDINGS.md: the mixed soak).
import { and, asc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import { immediate, rawPlaceholder, type Db, type DbOrTx } from '../../db/client.js';
import { byLimit } from '../../db/limits.js';
import { fastRows } from '../../db/rows.js';
import { campaigns, deliveries, type Campaign, type DeliveryReturn, type Subscriber } from '../../db/schema.js';
import { chunks } from '../../lib/chunks.js';
import { newId } from '../../lib/ids.js';
import { hasStopped } from '../../lib/processes.js';
import type { Site } from '../../shared/site.js';
import type { Outbox } from '../outbox/outbox.service.js';
import type { SubscribersService } from '../subscribers/subscribers.service.js';
import { forRecipient, type RenderedCampaign } from './campaigns.render.js';

/** Recipients handed to the outbox in one transaction, at most. */
const ROWS_PER_TRANSACTION = 20;

/** A campaign's figures while it sends: what a progress line shows (the cheap part of CampaignStats). */
export interface CampaignProgress {
  recipients: number;
  /** Not yet handed to the outbox. */
  pending: number;
  /** In the outbox, not yet sent (or being retried). */
  queued: number;
  sent: number;
  failed: number;
  /** Left, or suppressed, by the time their turn came (or by the instant their message was to leave). */
  skipped: number;
  /** Sent, then reported back by the recipient's mail server as undeliverable for good. */
  bounced: number;
  /** Sent, then reported back as not delivered for now (full mailbox, server down): counted towards SOFT_BOUNCE_LIMIT. */
  softBounced: number;
  /** Sent, then reported as spam by the recipient (through their provider). */
  complained: number;
}

export interface CampaignStats extends CampaignProgress {
  /** Sent to, and unsubscribed since the campaign started. */
  unsubscribedSince: number;
}

/** Worse outcomes replace milder ones on a delivery, never the other way. */
const RETURN_RANK: Record<DeliveryReturn, number> = { 'soft-bounced': 1, bounced: 2, complained: 3 };

export function createDeliveries(deps: {
  db: Db;
  outbox: Outbox;
  subscribers: SubscribersService;
  site: Site;
  /** A started campaign as rendered for sending (its text no longer changes; its cluster's name may). */
  renderedOf: (campaignId: string) => RenderedCampaign;
}) {
  const { db, outbox, subscribers } = deps;
  const insertDelivery = db
    .insert(deliveries)
    .values({
      id: rawPlaceholder('id'),
      campaignId: rawPlaceholder('campaignId'),
      subscriberId: rawPlaceholder('subscriberId'),
      email: rawPlaceholder('email'),
      status: 'pending',
      createdAt: rawPlaceholder('now'),
    })
    .onConflictDoNothing()
    .prepare();
  const pendingStatement = db
    .select({ n: sql<number>`count(*)` })
    .from(deliveries)
    .where(and(eq(deliveries.campaignId, sql.placeholder('campaignId')), eq(deliveries.status, 'pending')))
    .prepare();
  // The campaign's messages in the outbox: each outbox row asks whether it is one (deliveries_outbox).
  const outboxCounts = outbox.unfinishedCounter((outboxId) =>
    db
      .select({ one: sql`1` })
      .from(deliveries)
      .where(
        and(eq(deliveries.outboxId, outboxId), eq(deliveries.campaignId, sql.placeholder('campaignId')), eq(deliveries.status, 'enqueued')),
      ),
  );
  const markDelivery = db
    .update(deliveries)
    .set({ status: rawPlaceholder('status'), skipReason: rawPlaceholder('skipReason'), outboxId: rawPlaceholder('outboxId') })
    .where(eq(deliveries.id, sql.placeholder('id')))
    .prepare();

  // A campaign's next pending recipients, oldest first: one statement per batch size (byLimit).
  const pendingBatch = byLimit(
    (limit) =>
      fastRows(
        db
          .select({ id: deliveries.id, subscriberId: deliveries.subscriberId })
          .from(deliveries)
          .where(and(eq(deliveries.campaignId, sql.placeholder('campaignId')), eq(deliveries.status, 'pending')))
          .orderBy(asc(deliveries.id))
          .limit(limit)
          .prepare(),
      ),
    ROWS_PER_TRANSACTION,
  );

  // Whose message an outbox row is, and the campaign's audience, for the last check before it leaves.
  const deliveryOfMessage = fastRows(
    db
      .select({
        campaignId: deliveries.campaignId,
        subscriberId: deliveries.subscriberId,
        clusterId: campaigns.clusterId,
        topic: campaigns.topic,
      })
      .from(deliveries)
      .innerJoin(campaigns, eq(campaigns.id, deliveries.campaignId))
      .where(eq(deliveries.outboxId, sql.placeholder('outboxId')))
      .prepare(),
  );

  /** Why this person must not get the campaign now (erased, unsubscribed, left the topic, suppressed), or null. */
  function reasonToSkip(tx: DbOrTx, campaign: Pick<Campaign, 'clusterId' | 'topic'>, subscriber: Subscriber | undefined): string | null {
    return subscribers.reasonNotToMail(tx, subscriber, campaign.clusterId, campaign.topic);
  }

  // Consent is checked again just before each newsletter message goes to the mail server, by whichever
  // worker sends it (this process's or the server's), as it claims the message: someone who unsubscribes
  // while their copy waits gets none.
  /** A newsletter message's delivery and its reader as they are now. */
  function readerOf(outboxId: string) {
    const delivery = deliveryOfMessage.get({ outboxId });
    const subscriber = delivery?.subscriberId ? subscribers.byId(db, delivery.subscriberId) : undefined;
    return { delivery, subscriber };
  }
  // The reader a message's check passed on, kept for its copy: the worker composes it as soon as the
  // claiming transaction commits, so the copy is made for the person as checked, without reading them
  // twice (a tenth of a millisecond a copy in a sending CLI). Taken by the compose. An entry no compose
  // takes (its claim rolled back) is dropped when the row is checked again, or with the rest at MOST_CHECKED.
  const checked = new Map<string, ReturnType<typeof readerOf>>();
  const MOST_CHECKED = 256;
  outbox.hooks.sending.on((row) => {
    if (row.kind !== 'newsletter') return null;
    checked.delete(row.id);
    const reader = readerOf(row.id);
    const reason = reader.delivery ? reasonToSkip(db, reader.delivery, reader.subscriber) : null;
    if (reason === null && reader.delivery) {
      if (checked.size >= MOST_CHECKED) checked.clear();
      checked.set(row.id, reader);
    }
    return reason;
  });
  // The copy, made as it leaves: from the campaign as it is now and the person as their check read them,
  // in the claim that has just committed (someone erased after that instant still gets the copy, as they
  // would if the erasure came while it was on the wire). Nobody to make it for: none, and the claim is
  // retried and withheld.
  outbox.hooks.compose.on((row) => {
    if (row.kind !== 'newsletter') return null;
    const kept = checked.get(row.id);
    checked.delete(row.id);
    const { delivery, subscriber } = kept ?? readerOf(row.id);
    if (!delivery || !subscriber) return null;
    return messageFor(deps.renderedOf(delivery.campaignId), subscriber);
  });
  // A withheld message counts as skipped, not sent; the ledger keeps which outbox row it was.
  outbox.hooks.withheld.on((tx, row, reason) => {
    tx.update(deliveries).set({ status: 'skipped', skipReason: reason }).where(eq(deliveries.outboxId, row.id)).run();
  });

  // An erased person's address leaves the ledger (a placeholder keeps the count); their export lists what they were sent.
  subscribers.hooks.erased.on((tx, subscriber) => {
    tx.update(deliveries).set({ email: 'erased' }).where(eq(deliveries.subscriberId, subscriber.id)).run();
  });
  subscribers.hooks.exported.on((subscriber) => {
    const rows = db.select().from(deliveries).where(eq(deliveries.subscriberId, subscriber.id)).all();
    const sent = outbox.statusOf(rows.flatMap((row) => (row.outboxId ? [row.outboxId] : [])));
    return rows.map((row) => {
      const message = row.outboxId ? sent.get(row.outboxId) : undefined;
      return {
        campaignId: row.campaignId,
        status: row.status === 'enqueued' ? (message?.status ?? 'sent') : row.status,
        sentAt: message?.sentAt ?? null,
      };
    });
  });

  /** One person's copy: their own unsubscribe and preferences links, and their name where the newsletter merges it. */
  function messageFor(rendered: RenderedCampaign, person: { id: string; name: string | null }) {
    const mailto = subscribers.unsubscribeAddress(person.id);
    return forRecipient(
      rendered,
      {
        unsubscribeUrl: subscribers.link('unsubscribe', person.id),
        preferencesUrl: subscribers.link('preferences', person.id),
        ...(mailto ? { unsubscribeMailto: mailto } : {}),
      },
      person,
    );
  }

  /**
   * One transaction's worth of handOver: each recipient is checked again as they are now, and handed to
   * the outbox without a body (it is composed as it leaves; a stored copy cost a few kilobytes written
   * and read back per reader, bench/FINDINGS.md). The subject logged is the campaign's (a personalised one,
   * its template).
   */
  function handOverSome(campaign: Campaign, rendered: RenderedCampaign, limit: number): number {
    return immediate(db, (tx) => {
      // Read under the write lock, so what is pending is pending: another sender (a resume beside this one)
      // cannot take any of them meanwhile. Twenty rows by the index: a few tens of microseconds of the lock.
      const batch = pendingBatch(limit).all({ campaignId: campaign.id });
      if (batch.length === 0) return 0;
      const people = subscribers.getMany(
        tx,
        batch.flatMap((delivery) => (delivery.subscriberId ? [delivery.subscriberId] : [])),
      );
      for (const delivery of batch) {
        const subscriber = delivery.subscriberId ? people.get(delivery.subscriberId) : undefined;
        const skip = reasonToSkip(tx, campaign, subscriber);
        if (skip !== null || !subscriber) {
          markDelivery.run({ id: delivery.id, status: 'skipped', skipReason: skip, outboxId: null });
          continue;
        }
        const outboxId = outbox.enqueueComposed(tx, {
          kind: 'newsletter',
          to: subscriber.email,
          clusterId: campaign.clusterId,
          subject: rendered.subject,
        });
        markDelivery.run({ id: delivery.id, status: 'enqueued', skipReason: null, outboxId });
      }
      return batch.length;
    });
  }

  /** The figures without "unsubscribed since" (which reads every recipient): for a progress line, once a second. */
  function progress(campaignId: string): CampaignProgress {
    const rows = db
      .select({ status: deliveries.status, n: sql<number>`count(*)` })
      .from(deliveries)
      .where(eq(deliveries.campaignId, campaignId))
      .groupBy(deliveries.status)
      .all();
    const count = (status: string) => rows.find((row) => row.status === status)?.n ?? 0;
    const returns = db
      .select({ returned: deliveries.returned, n: sql<number>`count(*)` })
      .from(deliveries)
      .where(and(eq(deliveries.campaignId, campaignId), isNotNull(deliveries.returned)))
      .groupBy(deliveries.returned)
      .all();
    const returned = (kind: DeliveryReturn) => returns.find((row) => row.returned === kind)?.n ?? 0;
    const handed = count('enqueued');
    const queued = handed > 0 ? outboxCounts.waiting({ campaignId }) : 0;
    const failed = handed > 0 ? outboxCounts.failed({ campaignId }) : 0;
    // A message no longer in the outbox (its person was erased since) counts as sent.
    return {
      recipients: count('pending') + count('skipped') + handed,
      pending: count('pending'),
      queued,
      sent: handed - queued - failed,
      failed,
      skipped: count('skipped'),
      bounced: returned('bounced'),
      softBounced: returned('soft-bounced'),
      complained: returned('complained'),
    };
  }

  return {
    messageFor,

    /** What came back about a newsletter message (in the caller's transaction); the campaign it belonged to, if it was one. */
    markReturned(tx: DbOrTx, outboxId: string, returned: DeliveryReturn): string | undefined {
      const delivery = tx
        .select({ id: deliveries.id, campaignId: deliveries.campaignId, returned: deliveries.returned })
        .from(deliveries)
        .where(eq(deliveries.outboxId, outboxId))
        .get();
      if (!delivery) return undefined;
      if (!delivery.returned || RETURN_RANK[returned] > RETURN_RANK[delivery.returned])
        tx.update(deliveries).set({ returned }).where(eq(deliveries.id, delivery.id)).run();
      return delivery.campaignId;
    },

    /** Adds recipients to a campaign's ledger (once each), inside the caller's transaction. */
    add(_tx: DbOrTx, campaignId: string, recipients: { id: string; email: string }[], now: Date): void {
      for (const recipient of recipients)
        insertDelivery.run({ id: newId(), campaignId, subscriberId: recipient.id, email: recipient.email, now: now.getTime() });
    },

    count(campaignId: string): number {
      return db
        .select({ n: sql<number>`count(*)` })
        .from(deliveries)
        .where(eq(deliveries.campaignId, campaignId))
        .get()!.n;
    },

    /**
     * Hands up to `limit` pending recipients to the outbox, in transactions of at most ROWS_PER_TRANSACTION. Each is checked again
     * first: still confirmed, still on the topic, not suppressed; otherwise it is skipped.
     * Returns how many rows it handled (0: nothing left).
     */
    handOver(campaign: Campaign, rendered: RenderedCampaign, limit: number): number {
      let handled = 0;
      while (handled < limit) {
        const rows = handOverSome(campaign, rendered, Math.min(limit - handled, ROWS_PER_TRANSACTION));
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
      const claimed = outbox.claimsAmong(
        db.select({ id: deliveries.outboxId }).from(deliveries).where(eq(deliveries.campaignId, campaignId)),
      );
      // A claim of a process that may still be sending (another run, the server's worker) is left to
      // that process, or to its lease if it dies: releasing it would mail those people twice.
      const stuck = claimed.filter((row) => hasStopped(row.claimedBy)).map((row) => row.id);
      outbox.release(stuck);
      return { released: stuck.length, heldByLiveProcess: claimed.length - stuck.length };
    },

    /**
     * A pause: the campaign's messages still waiting in the outbox go back to the ledger, in one
     * transaction, so no worker (this process's or the server's) sends them; only those already claimed,
     * in flight at this instant, still leave. Returns how many came back.
     */
    recall(campaignId: string): number {
      return immediate(db, (tx) => {
        const ids = outbox.queuedAmong(
          tx,
          tx
            .select({ id: deliveries.outboxId })
            .from(deliveries)
            .where(and(eq(deliveries.campaignId, campaignId), eq(deliveries.status, 'enqueued'))),
        );
        // The ledger first: deleting the outbox rows would clear their ids from it.
        for (const piece of chunks(ids))
          tx.update(deliveries).set({ status: 'pending', outboxId: null }).where(inArray(deliveries.outboxId, piece)).run();
        outbox.withdraw(tx, ids);
        return ids.length;
      });
    },

    /** Recipients not yet handed to the outbox (an index count). */
    pendingCount(campaignId: string): number {
      return pendingStatement.get({ campaignId })!.n;
    },

    /** Messages of this campaign in the outbox and not yet sent or given up. */
    waitingCount(campaignId: string): number {
      return outboxCounts.waiting({ campaignId });
    },

    progress,

    stats(campaignId: string): CampaignStats {
      const figures = progress(campaignId);
      // Who left after it went out: those it was handed to who have unsubscribed since it started.
      const startedAt = db.select({ at: campaigns.startedAt }).from(campaigns).where(eq(campaigns.id, campaignId)).get()?.at ?? null;
      if (!startedAt || figures.sent + figures.queued + figures.failed === 0) return { ...figures, unsubscribedSince: 0 };
      const handedTo = db
        .select({ id: deliveries.subscriberId })
        .from(deliveries)
        .where(and(eq(deliveries.campaignId, campaignId), eq(deliveries.status, 'enqueued'), isNotNull(deliveries.subscriberId)))
        .all()
        .map((row) => row.id!);
      return { ...figures, unsubscribedSince: subscribers.unsubscribedSince(handedTo, startedAt) };
    },
  };
}
