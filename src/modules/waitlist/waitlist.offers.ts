// Offers: a freed slot offered to the first organisation in line and held for it for a while; an
// offer accepted books the slot, one declined, expired or withdrawn passes it to the next in line.
import { and, asc, eq, lte } from 'drizzle-orm';
import { immediate, type Db, type DbOrTx } from '../../db/client.js';
import {
  waitlistEntries,
  waitlistOffers,
  type Huddle,
  type Member,
  type Slot,
  type WaitlistEntry,
  type WaitlistOffer,
} from '../../db/schema.js';
import { problem } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import { signLink } from '../../lib/signed-links.js';
import type { Site } from '../../shared/site.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import { bookingWindow } from '../bookings/bookings.rules.js';
import type { BookingsService } from '../bookings/bookings.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { HuddlesService } from '../huddles/huddles.service.js';
import type { MembersService } from '../members/members.service.js';
import type { Outbox } from '../outbox/outbox.service.js';
import { offerEmail, offerLapsedEmail } from './waitlist.render.js';

export const OFFER_LINK_PURPOSE = 'waitlist-offer';

/** What the waitlist service and its offers are built from. */
export interface WaitlistDeps {
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
}

export function createOffers(deps: WaitlistDeps) {
  const { db, clock, audit, outbox, huddles, members, bookings } = deps;
  const system: Actor = { type: 'system', label: 'waitlist' };

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
    const people = members.getMany(
      tx,
      line.map((entry) => entry.memberId),
    );
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
        ...offerEmail({
          huddle,
          slot,
          clusterName: cluster.name,
          memberName: member.name,
          title: entry.title,
          expiresAt,
          url: offerUrl(offer.id),
        }),
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
    return {
      offer,
      entry,
      member: members.byId(entry.memberId)!,
      huddle: huddles.get(offer.huddleId),
      slot: bookings.slot(tx, offer.slotId)!,
    };
  }

  /** Closes an open offer (declined, expired or withdrawn) and passes its slot on to the next in line. */
  function lapse(tx: DbOrTx, offer: WaitlistOffer, status: 'declined' | 'expired' | 'withdrawn', tellMember: boolean) {
    tx.update(waitlistOffers).set({ status, decidedAt: clock.now() }).where(eq(waitlistOffers.id, offer.id)).run();
    setEntry(tx, offer.entryId, 'passed');
    const entry = tx.select().from(waitlistEntries).where(eq(waitlistEntries.id, offer.entryId)).get()!;
    const { member, huddle, slot } = withParts(tx, offer, entry);
    const cluster = deps.clusters.getById(huddle.clusterId);
    if (tellMember) {
      outbox.enqueue(tx, {
        kind: 'waitlist.offer_lapsed',
        to: member.email,
        clusterId: cluster.id,
        ...offerLapsedEmail({ huddle, clusterName: cluster.name, memberName: member.name }),
      });
    }
    audit.record(tx, system, {
      clusterId: cluster.id,
      action: `waitlist.offer_${status}`,
      targetType: 'waitlist_offer',
      targetId: offer.id,
    });
    offerNext(tx, huddle, slot);
  }

  function offerWithEntry(tx: DbOrTx, offerId: string) {
    return tx
      .select({ offer: waitlistOffers, entry: waitlistEntries })
      .from(waitlistOffers)
      .innerJoin(waitlistEntries, eq(waitlistEntries.id, waitlistOffers.entryId))
      .where(eq(waitlistOffers.id, offerId))
      .get();
  }

  /** The open offer with this id made to this member, or a problem. */
  function ownOffer(tx: DbOrTx, offerId: string, member: Member) {
    const row = offerWithEntry(tx, offerId);
    if (!row || row.entry.memberId !== member.id) throw problem('OFFER_NOT_FOUND', `There is no waitlist offer ${offerId}`);
    if (row.offer.status !== 'open') throw problem('OFFER_CLOSED', `This offer was ${row.offer.status}`);
    if (row.offer.expiresAt <= clock.now()) throw problem('OFFER_CLOSED', `This offer expired at ${row.offer.expiresAt.toISOString()}`);
    return row;
  }

  /** The worker's job: offers past their deadline lapse, and their slots go to the next in line. */
  function expireDue(): number {
    const now = clock.now();
    const due = db
      .select()
      .from(waitlistOffers)
      .where(and(eq(waitlistOffers.status, 'open'), lte(waitlistOffers.expiresAt, now)))
      .limit(100)
      .all();
    for (const offer of due) {
      immediate(db, (tx) => {
        const current = tx.select().from(waitlistOffers).where(eq(waitlistOffers.id, offer.id)).get();
        if (current?.status === 'open') lapse(tx, current, 'expired', true);
      });
    }
    return due.length;
  }

  return {
    offerNext,
    lapse,
    ownOffer,
    setEntry,
    expireDue,

    /** Offer pages behind signed links: the offer with its entry, member, huddle and slot. */
    findOffer(offerId: string) {
      const row = offerWithEntry(db, offerId);
      return row ? withParts(db, row.offer, row.entry) : undefined;
    },
  };
}
