// The pitch waitlist: organisations queue for a full huddle; a freed slot is offered to the first in
// line and held for a window; accepting books it, declining or letting it expire passes it on.
import { and, eq, inArray, lt, or, sql } from 'drizzle-orm';
import { immediate, type DbOrTx } from '../../db/client.js';
import { waitlistEntries, waitlistOffers, type Huddle, type Member, type WaitlistEntry, type WaitlistOffer } from '../../db/schema.js';
import { problem } from '../../errors.js';
import { newId } from '../../lib/ids.js';
import type { TimedJob } from '../../lib/jobs.js';
import type { Actor } from '../audit/audit.service.js';
import type { BookingDetails } from '../bookings/bookings.service.js';
import { organisationKey } from '../bookings/bookings.rules.js';
import { noticeOf } from '../huddles/huddles.service.js';
import { createOffers, type WaitlistDeps } from './waitlist.offers.js';

export type { WaitlistEntry, WaitlistOffer };

export { OFFER_LINK_PURPOSE } from './waitlist.offers.js';
const ACTIVE_ENTRY = ['waiting', 'offered'] as const;

export type WaitlistService = ReturnType<typeof createWaitlistService>;

export function createWaitlistService(deps: WaitlistDeps) {
  const { db, clock, audit, outbox, huddles, members, bookings } = deps;

  function position(tx: DbOrTx, entry: WaitlistEntry): number {
    return (
      tx
        .select({ n: sql<number>`count(*)` })
        .from(waitlistEntries)
        .where(
          and(
            eq(waitlistEntries.huddleId, entry.huddleId),
            inArray(waitlistEntries.status, [...ACTIVE_ENTRY]),
            // Line order: joined earlier, or at the same millisecond with a smaller (time-ordered) id.
            or(
              lt(waitlistEntries.createdAt, entry.createdAt),
              and(eq(waitlistEntries.createdAt, entry.createdAt), lt(waitlistEntries.id, entry.id)),
            ),
          ),
        )
        .get()!.n + 1
    );
  }

  const offers = createOffers({
    db,
    clock,
    audit,
    outbox,
    clusters: deps.clusters,
    huddles,
    members,
    bookings,
    site: deps.site,
    secretKey: deps.secretKey,
  });
  const { offerNext, lapse, ownOffer, setEntry } = offers;

  // A freed slot goes to the first in line; an open offer holds its slot against bookings.
  bookings.hooks.slotFreed.on((tx, huddle, slot) => offerNext(tx, huddle, slot));
  // Every booking asks this of its free slots: prepared once (the ids bound as one JSON array), on the
  // connection every transaction uses. 'open' written out, not bound: the partial index
  // waitlist_offers_open_slot answers it.
  const openOffersOn = db
    .select({ slotId: waitlistOffers.slotId })
    .from(waitlistOffers)
    .where(
      and(
        sql`${waitlistOffers.slotId} IN (SELECT value FROM json_each(${sql.placeholder('slotIds')}))`,
        sql`${waitlistOffers.status} = 'open'`,
      ),
    )
    .prepare();
  bookings.hooks.slotHolds.on((_tx, slotIds) => new Set(openOffersOn.all({ slotIds: JSON.stringify(slotIds) }).map((row) => row.slotId)));
  // A cancelled huddle withdraws its offers and closes its line.
  huddles.hooks.changed.on((tx, change) => {
    if (noticeOf(change) !== 'cancelled') return;
    const huddleId = change.after.id;
    tx.update(waitlistOffers)
      .set({ status: 'withdrawn', decidedAt: clock.now() })
      .where(and(eq(waitlistOffers.huddleId, huddleId), eq(waitlistOffers.status, 'open')))
      .run();
    tx.update(waitlistEntries)
      .set({ status: 'passed', updatedAt: clock.now() })
      .where(and(eq(waitlistEntries.huddleId, huddleId), inArray(waitlistEntries.status, [...ACTIVE_ENTRY])))
      .run();
  });

  // A suspended member leaves every line: an open offer is withdrawn and passes to the next in line.
  members.hooks.suspended.on((tx, member, actor) => {
    const entries = tx
      .select()
      .from(waitlistEntries)
      .where(and(eq(waitlistEntries.memberId, member.id), inArray(waitlistEntries.status, [...ACTIVE_ENTRY])))
      .all();
    for (const entry of entries) {
      const offer = tx
        .select()
        .from(waitlistOffers)
        .where(and(eq(waitlistOffers.entryId, entry.id), eq(waitlistOffers.status, 'open')))
        .get();
      if (offer) lapse(tx, offer, 'withdrawn', false);
      setEntry(tx, entry.id, 'left');
      audit.record(tx, actor, { clusterId: member.clusterId, action: 'waitlist.left', targetType: 'waitlist_entry', targetId: entry.id });
    }
  });

  const jobs: TimedJob[] = [{ name: 'waitlist-offers-expiry', run: offers.expireDue }];

  return {
    jobs,

    /** Puts the member's organisation in line; only when every slot is taken, and once per organisation. */
    join(
      member: Member,
      huddleId: string,
      pitch: { title: string; summary?: string },
      actor: Actor,
    ): { entry: WaitlistEntry; position: number; huddle: Huddle } {
      return immediate(db, (tx) => {
        const huddle = bookings.bookableHuddle(tx, member, huddleId);
        const orgKey = organisationKey(member.organisation);
        const existing = tx
          .select()
          .from(waitlistEntries)
          .where(
            and(
              eq(waitlistEntries.huddleId, huddle.id),
              eq(waitlistEntries.organisationKey, orgKey),
              inArray(waitlistEntries.status, [...ACTIVE_ENTRY]),
            ),
          )
          .get();
        if (existing) throw problem('ALREADY_ON_WAITLIST', `Your organisation is number ${position(tx, existing)} in line already`);
        if (bookings.organisationPitches(tx, huddle.id, orgKey))
          throw problem('BOOKING_LIMIT_REACHED', 'Your organisation has a pitch at this huddle already');
        if (bookings.firstFreeSlot(tx, huddle.id)) throw problem('SLOTS_AVAILABLE', 'There are free slots at this huddle: book one');
        const now = clock.now();
        const entry = tx
          .insert(waitlistEntries)
          .values({
            id: newId(),
            huddleId: huddle.id,
            memberId: member.id,
            organisationKey: orgKey,
            title: pitch.title.trim(),
            summary: pitch.summary?.trim() ?? '',
            status: 'waiting',
            createdAt: now,
            updatedAt: now,
          })
          .returning()
          .get();
        audit.record(tx, actor, {
          clusterId: huddle.clusterId,
          action: 'waitlist.joined',
          targetType: 'waitlist_entry',
          targetId: entry.id,
        });
        return { entry, position: position(tx, entry), huddle };
      });
    },

    /** Takes the member's organisation out of line; an open offer it held passes to the next. */
    leave(member: Member, huddleId: string, actor: Actor): void {
      immediate(db, (tx) => {
        const entry = tx
          .select()
          .from(waitlistEntries)
          .where(
            and(
              eq(waitlistEntries.huddleId, huddleId),
              eq(waitlistEntries.memberId, member.id),
              inArray(waitlistEntries.status, [...ACTIVE_ENTRY]),
            ),
          )
          .get();
        if (!entry) throw problem('NOT_ON_WAITLIST', "You are not on this huddle's waitlist");
        const offer = tx
          .select()
          .from(waitlistOffers)
          .where(and(eq(waitlistOffers.entryId, entry.id), eq(waitlistOffers.status, 'open')))
          .get();
        if (offer) lapse(tx, offer, 'declined', false);
        setEntry(tx, entry.id, 'left');
        audit.record(tx, actor, { clusterId: member.clusterId, action: 'waitlist.left', targetType: 'waitlist_entry', targetId: entry.id });
      });
    },

    /** Books the offered slot for the member (with the title they queued with). */
    accept(offerId: string, member: Member, actor: Actor): BookingDetails {
      return immediate(db, (tx) => {
        const { offer, entry } = ownOffer(tx, offerId, member);
        const slot = bookings.slot(tx, offer.slotId)!;
        // The offer stops holding the slot first, so the booking below sees it free.
        tx.update(waitlistOffers).set({ status: 'accepted', decidedAt: clock.now() }).where(eq(waitlistOffers.id, offer.id)).run();
        const booked = bookings.bookOffered(tx, {
          member,
          huddleId: offer.huddleId,
          slot,
          pitch: { title: entry.title, summary: entry.summary },
          actor,
        });
        setEntry(tx, entry.id, 'booked');
        return booked;
      });
    },

    decline(offerId: string, member: Member): void {
      immediate(db, (tx) => lapse(tx, ownOffer(tx, offerId, member).offer, 'declined', false));
    },

    /**
     * For each huddle: how many wait for a slot, and when its open offers expire, soonest first (the
     * console's dashboard warns of offers about to lapse).
     */
    tally(huddleIds: string[]): Map<string, { waiting: number; offersExpiring: Date[] }> {
      const tallies = new Map(huddleIds.map((id) => [id, { waiting: 0, offersExpiring: [] as Date[] }]));
      if (huddleIds.length === 0) return tallies;
      for (const row of db
        .select({ huddleId: waitlistEntries.huddleId, count: sql<number>`count(*)` })
        .from(waitlistEntries)
        .where(and(inArray(waitlistEntries.huddleId, huddleIds), inArray(waitlistEntries.status, ['waiting', 'offered'])))
        .groupBy(waitlistEntries.huddleId)
        .all())
        tallies.get(row.huddleId)!.waiting = row.count;
      for (const row of db
        .select({ huddleId: waitlistOffers.huddleId, expiresAt: waitlistOffers.expiresAt })
        .from(waitlistOffers)
        .where(and(inArray(waitlistOffers.huddleId, huddleIds), eq(waitlistOffers.status, 'open')))
        .orderBy(waitlistOffers.expiresAt)
        .all())
        tallies.get(row.huddleId)!.offersExpiring.push(row.expiresAt);
      return tallies;
    },

    /** The member's places in line and open offers, soonest huddle first (for /v1/me). */
    forMember(memberId: string) {
      return immediate(db, (tx) => {
        const entries = tx
          .select()
          .from(waitlistEntries)
          .where(and(eq(waitlistEntries.memberId, memberId), inArray(waitlistEntries.status, [...ACTIVE_ENTRY])))
          .all();
        return huddles.withHuddles(tx, entries).map(({ row: entry, huddle }) => {
          const offer = tx
            .select()
            .from(waitlistOffers)
            .where(and(eq(waitlistOffers.entryId, entry.id), eq(waitlistOffers.status, 'open')))
            .get();
          const slot = offer ? bookings.slot(tx, offer.slotId) : undefined;
          return { entry, huddle, position: position(tx, entry), offer: offer && slot ? { offer, slot } : null };
        });
      });
    },

    findOffer: offers.findOffer,
  };
}
