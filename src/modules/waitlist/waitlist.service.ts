// The pitch waitlist: organisations queue for a full huddle; a freed slot is offered to the first in
// line and held for a window; accepting books it, declining or letting it expire passes it on.
import { and, asc, eq, inArray, lte, lt, or, sql } from 'drizzle-orm';
import { immediate, type Db, type DbOrTx } from '../../db/client.js';
import { waitlistEntries, waitlistOffers, type Huddle, type Member, type Slot, type WaitlistEntry, type WaitlistOffer } from '../../db/schema.js';
import { problem } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import type { TimedJob } from '../../lib/jobs.js';
import { signLink } from '../../lib/signed-links.js';
import type { Site } from '../../shared/site.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { BookingDetails, BookingsService } from '../bookings/bookings.service.js';
import { bookingWindow, organisationKey } from '../bookings/bookings.rules.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import { noticeOf, type HuddlesService } from '../huddles/huddles.service.js';
import type { MembersService } from '../members/members.service.js';
import type { Outbox } from '../outbox/outbox.service.js';
import { offerEmail, offerLapsedEmail } from './waitlist.render.js';

export type { WaitlistEntry, WaitlistOffer };

export const OFFER_LINK_PURPOSE = 'waitlist-offer';
const ACTIVE_ENTRY = ['waiting', 'offered'] as const;

export type WaitlistService = ReturnType<typeof createWaitlistService>;

export function createWaitlistService(deps: {
  db: Db;
  clock: Clock;
  audit: AuditService;
  outbox: Outbox;
  clusters: ClustersService;
  huddles: HuddlesService;
  members: MembersService;
  bookings: BookingsService;
  site: Site;
  secretKey: string;
}) {
  const { db, clock, audit, outbox, huddles, members, bookings } = deps;
  const system: Actor = { type: 'system', label: 'waitlist' };

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
            or(lt(waitlistEntries.createdAt, entry.createdAt), and(eq(waitlistEntries.createdAt, entry.createdAt), lt(waitlistEntries.id, entry.id))),
          ),
        )
        .get()!.n + 1
    );
  }

  function offerUrl(offerId: string): string {
    return `${deps.site.baseUrl}/waitlist/offer?token=${encodeURIComponent(signLink(deps.secretKey, OFFER_LINK_PURPOSE, offerId))}`;
  }

  function setEntry(tx: DbOrTx, entryId: string, status: WaitlistEntry['status']) {
    tx.update(waitlistEntries).set({ status, updatedAt: clock.now() }).where(eq(waitlistEntries.id, entryId)).run();
  }

  /**
   * Offers a freed slot to the first organisation in line that has no pitch at the huddle yet. The
   * offer holds the slot for the cluster's offer window, or until booking closes if that is sooner;
   * when booking has closed already, nobody is offered anything and the slot stays free.
   */
  function offerNext(tx: DbOrTx, huddle: Huddle, slot: Slot): void {
    if (huddle.status !== 'published') return;
    const now = clock.now();
    const cluster = deps.clusters.getById(huddle.clusterId);
    const closesAt = bookingWindow(huddle.startsAt, huddle).closesAt;
    const expiresAt = new Date(Math.min(now.getTime() + cluster.bookingPolicy.waitlistOfferHours * 3_600_000, closesAt.getTime()));
    if (expiresAt <= now) return;
    const line = tx
      .select()
      .from(waitlistEntries)
      .where(and(eq(waitlistEntries.huddleId, huddle.id), eq(waitlistEntries.status, 'waiting')))
      .orderBy(asc(waitlistEntries.createdAt), asc(waitlistEntries.id))
      .all();
    const people = members.getMany(tx, line.map((entry) => entry.memberId));
    for (const entry of line) {
      const member = people.get(entry.memberId)!;
      if (bookings.organisationPitches(tx, huddle.id, entry.organisationKey) || member.status !== 'active') continue;
      const offer = tx
        .insert(waitlistOffers)
        .values({ id: newId(), entryId: entry.id, huddleId: huddle.id, slotId: slot.id, status: 'open', expiresAt, createdAt: now })
        .returning()
        .get();
      setEntry(tx, entry.id, 'offered');
      outbox.enqueue(tx, {
        kind: 'waitlist.offer',
        to: member.email,
        clusterId: cluster.id,
        ...offerEmail({ huddle, slot, clusterName: cluster.name, memberName: member.name, title: entry.title, expiresAt, url: offerUrl(offer.id) }),
      });
      audit.record(tx, system, {
        clusterId: cluster.id,
        action: 'waitlist.offered',
        targetType: 'waitlist_offer',
        targetId: offer.id,
        after: { entryId: entry.id, slot: slot.position, expiresAt: expiresAt.toISOString() },
      });
      return;
    }
  }

  /** An offer with its entry, member, huddle and slot. */
  function withParts(tx: DbOrTx, offer: WaitlistOffer, entry: WaitlistEntry) {
    return { offer, entry, member: members.byId(entry.memberId)!, huddle: huddles.get(offer.huddleId), slot: bookings.slot(tx, offer.slotId)! };
  }

  /** Closes an open offer (declined, expired or withdrawn) and passes its slot on to the next in line. */
  function lapse(tx: DbOrTx, offer: WaitlistOffer, status: 'declined' | 'expired', tellMember: boolean) {
    tx.update(waitlistOffers).set({ status, decidedAt: clock.now() }).where(eq(waitlistOffers.id, offer.id)).run();
    setEntry(tx, offer.entryId, 'passed');
    const entry = tx.select().from(waitlistEntries).where(eq(waitlistEntries.id, offer.entryId)).get()!;
    const { member, huddle, slot } = withParts(tx, offer, entry);
    const cluster = deps.clusters.getById(huddle.clusterId);
    if (tellMember) {
      outbox.enqueue(tx, { kind: 'waitlist.offer_lapsed', to: member.email, clusterId: cluster.id, ...offerLapsedEmail({ huddle, clusterName: cluster.name, memberName: member.name }) });
    }
    audit.record(tx, system, { clusterId: cluster.id, action: `waitlist.offer_${status}`, targetType: 'waitlist_offer', targetId: offer.id });
    offerNext(tx, huddle, slot);
  }

  /** The open offer with this id made to this member, or a problem. */
  function ownOffer(tx: DbOrTx, offerId: string, member: Member) {
    const row = tx
      .select({ offer: waitlistOffers, entry: waitlistEntries })
      .from(waitlistOffers)
      .innerJoin(waitlistEntries, eq(waitlistEntries.id, waitlistOffers.entryId))
      .where(eq(waitlistOffers.id, offerId))
      .get();
    if (!row || row.entry.memberId !== member.id) throw problem('OFFER_NOT_FOUND', `There is no waitlist offer ${offerId}`);
    if (row.offer.status !== 'open') throw problem('OFFER_CLOSED', `This offer was ${row.offer.status}`);
    if (row.offer.expiresAt <= clock.now()) throw problem('OFFER_CLOSED', `This offer expired at ${row.offer.expiresAt.toISOString()}`);
    return row;
  }

  /** The worker's job: offers past their deadline lapse, and their slots go to the next in line. */
  function expireDue(): number {
    const now = clock.now();
    const due = db.select().from(waitlistOffers).where(and(eq(waitlistOffers.status, 'open'), lte(waitlistOffers.expiresAt, now))).limit(100).all();
    for (const offer of due) {
      immediate(db, (tx) => {
        const current = tx.select().from(waitlistOffers).where(eq(waitlistOffers.id, offer.id)).get();
        if (current?.status === 'open') lapse(tx, current, 'expired', true);
      });
    }
    return due.length;
  }

  // A freed slot goes to the first in line; an open offer holds its slot against bookings.
  bookings.hooks.slotFreed.on((tx, huddle, slot) => offerNext(tx, huddle, slot));
  bookings.hooks.slotHolds.on((tx, slotIds) => {
    // 'open' written out, not bound: the partial index waitlist_offers_open_slot answers it.
    const open = tx.select({ slotId: waitlistOffers.slotId }).from(waitlistOffers).where(and(inArray(waitlistOffers.slotId, slotIds), sql`${waitlistOffers.status} = 'open'`)).all();
    return new Set(open.map((row) => row.slotId));
  });
  // A cancelled huddle withdraws its offers and closes its line.
  huddles.hooks.changed.on((tx, change) => {
    if (noticeOf(change) !== 'cancelled') return;
    const huddleId = change.after.id;
    tx.update(waitlistOffers).set({ status: 'withdrawn', decidedAt: clock.now() }).where(and(eq(waitlistOffers.huddleId, huddleId), eq(waitlistOffers.status, 'open'))).run();
    tx.update(waitlistEntries)
      .set({ status: 'passed', updatedAt: clock.now() })
      .where(and(eq(waitlistEntries.huddleId, huddleId), inArray(waitlistEntries.status, [...ACTIVE_ENTRY])))
      .run();
  });

  const jobs: TimedJob[] = [{ name: 'waitlist-offers-expiry', run: expireDue }];

  return {
    jobs,

    /** Puts the member's organisation in line; only when every slot is taken, and once per organisation. */
    join(member: Member, huddleId: string, pitch: { title: string; summary?: string }, actor: Actor): { entry: WaitlistEntry; position: number; huddle: Huddle } {
      return immediate(db, (tx) => {
        const huddle = bookings.bookableHuddle(tx, member, huddleId);
        const orgKey = organisationKey(member.organisation);
        const existing = tx
          .select()
          .from(waitlistEntries)
          .where(and(eq(waitlistEntries.huddleId, huddle.id), eq(waitlistEntries.organisationKey, orgKey), inArray(waitlistEntries.status, [...ACTIVE_ENTRY])))
          .get();
        if (existing) throw problem('ALREADY_ON_WAITLIST', `Your organisation is number ${position(tx, existing)} in line already`);
        if (bookings.organisationPitches(tx, huddle.id, orgKey)) throw problem('BOOKING_LIMIT_REACHED', 'Your organisation has a pitch at this huddle already');
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
        audit.record(tx, actor, { clusterId: huddle.clusterId, action: 'waitlist.joined', targetType: 'waitlist_entry', targetId: entry.id });
        return { entry, position: position(tx, entry), huddle };
      });
    },

    /** Takes the member's organisation out of line; an open offer it held passes to the next. */
    leave(member: Member, huddleId: string, actor: Actor): void {
      immediate(db, (tx) => {
        const entry = tx
          .select()
          .from(waitlistEntries)
          .where(and(eq(waitlistEntries.huddleId, huddleId), eq(waitlistEntries.memberId, member.id), inArray(waitlistEntries.status, [...ACTIVE_ENTRY])))
          .get();
        if (!entry) throw problem('NOT_ON_WAITLIST', 'You are not on this huddle\'s waitlist');
        const offer = tx.select().from(waitlistOffers).where(and(eq(waitlistOffers.entryId, entry.id), eq(waitlistOffers.status, 'open'))).get();
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
        const booked = bookings.bookOffered(tx, { member, huddleId: offer.huddleId, slot, pitch: { title: entry.title, summary: entry.summary }, actor });
        setEntry(tx, entry.id, 'booked');
        return booked;
      });
    },

    decline(offerId: string, member: Member): void {
      immediate(db, (tx) => lapse(tx, ownOffer(tx, offerId, member).offer, 'declined', false));
    },

    /** The member's places in line and open offers, soonest huddle first (for /v1/me). */
    forMember(memberId: string) {
      return immediate(db, (tx) => {
        const entries = tx
          .select()
          .from(waitlistEntries)
          .where(and(eq(waitlistEntries.memberId, memberId), inArray(waitlistEntries.status, [...ACTIVE_ENTRY])))
          .all();
        const theirHuddles = huddles.getMany(tx, entries.map((entry) => entry.huddleId));
        return entries
          .map((entry) => ({ entry, huddle: theirHuddles.get(entry.huddleId)! }))
          .sort((a, b) => a.huddle.startsAt.getTime() - b.huddle.startsAt.getTime())
          .map(({ entry, huddle }) => {
            const offer = tx.select().from(waitlistOffers).where(and(eq(waitlistOffers.entryId, entry.id), eq(waitlistOffers.status, 'open'))).get();
            const slot = offer ? bookings.slot(tx, offer.slotId) : undefined;
            return { entry, huddle, position: position(tx, entry), offer: offer && slot ? { offer, slot } : null };
          });
      });
    },

    /** Offer pages behind signed links: the offer with its entry, member, huddle and slot. */
    findOffer(offerId: string) {
      const row = db
        .select({ offer: waitlistOffers, entry: waitlistEntries })
        .from(waitlistOffers)
        .innerJoin(waitlistEntries, eq(waitlistEntries.id, waitlistOffers.entryId))
        .where(eq(waitlistOffers.id, offerId))
        .get();
      return row ? withParts(db, row.offer, row.entry) : undefined;
    },
  };
}
