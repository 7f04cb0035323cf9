// Pitch bookings: book a slot, approve or reject, cancel; every check-then-write is one IMMEDIATE
// transaction, and the partial unique index bookings_active_slot makes a double booking impossible.
import { and, asc, eq, gt, inArray, lt, ne, sql } from 'drizzle-orm';
import { immediate, type Db, type DbOrTx } from '../../db/client.js';
import { bookings, huddles, members, organisers, slots, waitlistOffers } from '../../db/schema.js';
import { problem } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import { signLink } from '../../lib/signed-links.js';
import type { MemberPrincipal, OrganiserPrincipal } from '../../plugins/auth.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { Cluster, ClustersService } from '../clusters/clusters.service.js';
import { eventContext } from '../feeds/feeds.service.js';
import { renderCalendar, type CalendarMethod } from '../feeds/feeds.render.js';
import type { HuddleChange } from '../huddles/huddles.service.js';
import type { Huddle, Slot } from '../huddles/huddles.view.js';
import type { Member } from '../members/members.service.js';
import type { Outbox } from '../outbox/outbox.service.js';
import { lateCancellationEmail, pitchEmail, renderPitchEvent, type Booking, type PitchEmailKind } from './bookings.render.js';
import { bookingClosedReason, bookingWindow, exceedsRollingLimit, memberCancelDeadline, organisationKey } from './bookings.rules.js';

export type { Booking };

const ACTIVE = ['pending', 'confirmed'] as const;
export const CANCEL_LINK_PURPOSE = 'cancel-booking';

export interface BookingRequest {
  slotId?: string;
  title: string;
  summary?: string;
}

/** A booking with what the API and emails show about it. */
export interface BookingDetails {
  booking: Booking;
  slot: Slot;
  huddle: Huddle;
  member: Member;
}

/** Someone who may cancel: the member who booked, or an organiser of the huddle's cluster. */
export type Canceller = MemberPrincipal | OrganiserPrincipal;

export type BookingsService = ReturnType<typeof createBookingsService>;

export function createBookingsService(deps: {
  db: Db;
  clock: Clock;
  audit: AuditService;
  outbox: Outbox;
  clusters: ClustersService;
  baseUrl: string;
  mailFrom: string;
  secretKey: string;
  /** Called in the same transaction when a slot frees up (the waitlist offers it). */
  onSlotFreed?: (tx: DbOrTx, huddle: Huddle, slot: Slot) => void;
}) {
  const { db, clock, audit, outbox } = deps;
  const p = (name: string) => sql.placeholder(name);

  // A burst of requests for the same huddle is mostly refusals, which run only these reads; they are
  // prepared once. They run on the connection every transaction here uses, so inside the caller's.
  const huddleStatement = db.select().from(huddles).where(eq(huddles.id, p('id'))).prepare();
  const organisationCountStatement = db
    .select({ n: sql<number>`count(*)` })
    .from(bookings)
    .where(and(eq(bookings.huddleId, p('huddleId')), eq(bookings.organisationKey, p('orgKey')), inArray(bookings.status, [...ACTIVE])))
    .prepare();
  const firstFreeSlotStatement = db
    .select()
    .from(slots)
    .where(
      and(
        eq(slots.huddleId, p('huddleId')),
        sql`NOT EXISTS (SELECT 1 FROM bookings b WHERE b.slot_id = ${slots.id} AND b.status IN ('pending', 'confirmed'))`,
        sql`NOT EXISTS (SELECT 1 FROM waitlist_offers o WHERE o.slot_id = ${slots.id} AND o.status = 'open')`,
      ),
    )
    .orderBy(asc(slots.position))
    .limit(1)
    .prepare();
  const anySlotStatement = db.select({ id: slots.id }).from(slots).where(eq(slots.huddleId, p('huddleId'))).limit(1).prepare();

  function details(tx: DbOrTx, bookingId: string): BookingDetails | undefined {
    const row = tx
      .select({ booking: bookings, slot: slots, huddle: huddles, member: members })
      .from(bookings)
      .innerJoin(slots, eq(slots.id, bookings.slotId))
      .innerJoin(huddles, eq(huddles.id, bookings.huddleId))
      .innerJoin(members, eq(members.id, bookings.memberId))
      .where(eq(bookings.id, bookingId))
      .get();
    return row;
  }

  function manageUrl(bookingId: string): string {
    return `${deps.baseUrl}/pitches/cancel?token=${encodeURIComponent(signLink(deps.secretKey, CANCEL_LINK_PURPOSE, bookingId))}`;
  }

  /** Emails the pitcher; confirmations and moves carry the slot as METHOD:REQUEST, cancellations as CANCEL. */
  function tell(tx: DbOrTx, kind: PitchEmailKind, d: BookingDetails, cluster: Cluster, extra: { cancelledBy?: 'member' | 'organiser' | 'system'; reason?: string | null; wasConfirmed?: boolean } = {}) {
    const email = pitchEmail(kind, {
      booking: d.booking,
      slot: d.slot,
      huddle: d.huddle,
      clusterName: cluster.name,
      memberName: d.member.name,
      manageUrl: manageUrl(d.booking.id),
      ...extra,
    });
    const method: CalendarMethod | null = kind === 'confirmed' || kind === 'approved' || kind === 'moved' ? 'REQUEST' : kind === 'cancelled' && extra.wasConfirmed ? 'CANCEL' : null;
    const calendar = method
      ? {
          method,
          content: renderCalendar({ name: cluster.name, method }, [
            renderPitchEvent(d.booking, d.slot, d.huddle, eventContext(cluster, deps.baseUrl, deps.mailFrom), {
              stamp: clock.now(),
              attendee: { email: d.member.email, name: d.member.name },
            }),
          ]),
        }
      : undefined;
    outbox.enqueue(tx, {
      kind: `pitch.${kind}`,
      to: d.member.email,
      clusterId: cluster.id,
      ...email,
      ...(cluster.contactEmail ? { replyTo: cluster.contactEmail } : {}),
      ...(calendar ? { calendar } : {}),
    });
  }

  function activeOnSlot(tx: DbOrTx, slotId: string) {
    return tx.select({ id: bookings.id }).from(bookings).where(and(eq(bookings.slotId, slotId), inArray(bookings.status, [...ACTIVE]))).get();
  }

  /** Checks the organisation's limits for one more pitch at this huddle (pending ones count). */
  function checkLimits(tx: DbOrTx, cluster: Cluster, huddle: Huddle, orgKey: string, excludeBookingId?: string) {
    const exclude = excludeBookingId ? [ne(bookings.id, excludeBookingId)] : [];
    const here = excludeBookingId
      ? tx
          .select({ n: sql<number>`count(*)` })
          .from(bookings)
          .where(and(eq(bookings.huddleId, huddle.id), eq(bookings.organisationKey, orgKey), inArray(bookings.status, [...ACTIVE]), ...exclude))
          .get()!.n
      : organisationCountStatement.get({ huddleId: huddle.id, orgKey })!.n;
    const perHuddle = cluster.bookingPolicy.pitchesPerOrganisationPerHuddle;
    if (here >= perHuddle) {
      throw problem('BOOKING_LIMIT_REACHED', `Your organisation has ${here} active pitch${here === 1 ? '' : 'es'} at this huddle; the limit is ${perHuddle}`);
    }
    const rolling = cluster.bookingPolicy.rollingLimit;
    if (rolling) {
      const span = rolling.days * 86_400_000;
      const others = tx
        .select({ startsAt: huddles.startsAt })
        .from(bookings)
        .innerJoin(huddles, eq(huddles.id, bookings.huddleId))
        .where(
          and(
            eq(huddles.clusterId, cluster.id),
            eq(bookings.organisationKey, orgKey),
            inArray(bookings.status, [...ACTIVE]),
            gt(huddles.startsAt, new Date(huddle.startsAt.getTime() - span)),
            lt(huddles.startsAt, new Date(huddle.startsAt.getTime() + span)),
            ...exclude,
          ),
        )
        .all()
        .map((row) => row.startsAt);
      if (exceedsRollingLimit(others, huddle.startsAt, rolling)) {
        throw problem('BOOKING_LIMIT_REACHED', `Your organisation may pitch at most ${rolling.max} times in any ${rolling.days} days`);
      }
    }
  }

  /** A published huddle of the member's cluster whose booking window is open now. */
  function bookableHuddle(_tx: DbOrTx, member: Member, huddleId: string): Huddle {
    const huddle = huddleStatement.get({ id: huddleId });
    if (!huddle || huddle.clusterId !== member.clusterId || huddle.status === 'draft') throw problem('HUDDLE_NOT_FOUND', `There is no huddle ${huddleId}`);
    if (huddle.status === 'cancelled') throw problem('HUDDLE_CANCELLED', 'This huddle is cancelled');
    const closed = bookingClosedReason(bookingWindow(huddle.startsAt, huddle), clock.now());
    if (closed) throw problem('BOOKING_CLOSED', closed);
    return huddle;
  }

  /** The first slot that holds no pending or confirmed booking and is not offered to the waitlist. */
  function firstFreeSlot(_tx: DbOrTx, huddleId: string): Slot | undefined {
    return firstFreeSlotStatement.get({ huddleId });
  }

  /** Whether this organisation holds a pending or confirmed pitch at the huddle. */
  function organisationPitches(_tx: DbOrTx, huddleId: string, orgKey: string): boolean {
    return organisationCountStatement.get({ huddleId, orgKey })!.n > 0;
  }

  function heldByOffer(tx: DbOrTx, slotId: string): boolean {
    return tx.select({ id: waitlistOffers.id }).from(waitlistOffers).where(and(eq(waitlistOffers.slotId, slotId), eq(waitlistOffers.status, 'open'))).get() !== undefined;
  }

  function insertBooking(tx: DbOrTx, cluster: Cluster, huddle: Huddle, slot: Slot, member: Member, orgKey: string, request: BookingRequest, actor: Actor): BookingDetails {
    const now = clock.now();
    const booking = tx
      .insert(bookings)
      .values({
        id: newId(),
        huddleId: huddle.id,
        slotId: slot.id,
        memberId: member.id,
        organisationKey: orgKey,
        title: request.title.trim(),
        summary: request.summary?.trim() ?? '',
        status: huddle.approvalRequired ? 'pending' : 'confirmed',
        sequence: 0,
        createdAt: now,
        updatedAt: now,
      })
      .returning()
      .get();
    const d = { booking, slot, huddle, member };
    tell(tx, booking.status === 'pending' ? 'pending' : 'confirmed', d, cluster);
    audit.record(tx, actor, { clusterId: cluster.id, action: 'booking.created', targetType: 'booking', targetId: booking.id, after: { huddleId: huddle.id, slot: slot.position, status: booking.status, title: booking.title } });
    return d;
  }

  /** The booking as its member sees it, or as an organiser of its cluster sees it; anyone else gets 404. */
  function visible(tx: DbOrTx, bookingId: string, who: Canceller): BookingDetails {
    const d = details(tx, bookingId);
    const mine = d && (who.kind === 'member' ? d.booking.memberId === who.memberId : d.huddle.clusterId === who.clusterId);
    if (!d || !mine) throw problem('BOOKING_NOT_FOUND', `There is no booking ${bookingId}`);
    return d;
  }

  function setStatus(tx: DbOrTx, booking: Booking, values: Partial<Booking>): Booking {
    return tx
      .update(bookings)
      .set({ ...values, updatedAt: clock.now() })
      .where(eq(bookings.id, booking.id))
      .returning()
      .get()!;
  }

  function cancelIn(tx: DbOrTx, d: BookingDetails, by: 'member' | 'organiser' | 'system', actor: Actor, reason: string | null, cluster: Cluster) {
    const wasConfirmed = d.booking.status === 'confirmed';
    const now = clock.now();
    const booking = setStatus(tx, d.booking, { status: 'cancelled', cancelledBy: by, cancelledAt: now, sequence: d.booking.sequence + (wasConfirmed ? 1 : 0) });
    const after = { ...d, booking };
    tell(tx, 'cancelled', after, cluster, { cancelledBy: by, reason, wasConfirmed });
    audit.record(tx, actor, { clusterId: cluster.id, action: 'booking.cancelled', targetType: 'booking', targetId: booking.id, before: { status: d.booking.status }, after: { status: 'cancelled', by, ...(reason ? { reason } : {}) } });
    return after;
  }

  return {
    manageUrl,

    get(bookingId: string, who: Canceller): BookingDetails {
      return visible(db, bookingId, who);
    },

    /** For the pages behind signed email links: the link itself is the credential. */
    find(bookingId: string): BookingDetails | undefined {
      return details(db, bookingId);
    },

    /** Books a slot (the given one, or the first free one) for the member's organisation. */
    book(member: Member, huddleId: string, request: BookingRequest, actor: Actor): BookingDetails {
      return immediate(db, (tx) => {
        const huddle = bookableHuddle(tx, member, huddleId);
        const cluster = deps.clusters.getById(huddle.clusterId);
        const orgKey = organisationKey(member.organisation);
        checkLimits(tx, cluster, huddle, orgKey);

        let slot: Slot | undefined;
        if (request.slotId) {
          slot = tx.select().from(slots).where(and(eq(slots.id, request.slotId), eq(slots.huddleId, huddle.id))).get();
          if (!slot) throw problem('SLOT_NOT_FOUND', `Huddle ${huddle.id} has no slot ${request.slotId}`, { errors: [{ field: 'body/slotId', message: 'is not a slot of this huddle' }] });
          if (activeOnSlot(tx, slot.id)) throw problem('SLOT_TAKEN', `Slot ${slot.position} is booked already`);
          if (heldByOffer(tx, slot.id)) throw problem('SLOT_TAKEN', `Slot ${slot.position} is offered to the waitlist`);
        } else {
          slot = firstFreeSlot(tx, huddle.id);
          if (!slot) {
            const any = anySlotStatement.get({ huddleId: huddle.id });
            throw problem('NO_SLOTS_LEFT', any ? 'Every slot of this huddle is booked; join the waitlist to be offered one that frees up' : 'This huddle has no pitch slots (its pitch.slotCount is 0)');
          }
        }
        return insertBooking(tx, cluster, huddle, slot, member, orgKey, request, actor);
      });
    },

    /**
     * Books a slot the waitlist offered, inside the caller's transaction: the window and the
     * organisation's limits are checked again; the slot was held for this member by the offer.
     */
    bookOffered(tx: DbOrTx, member: Member, huddleId: string, slot: Slot, request: BookingRequest, actor: Actor): BookingDetails {
      const huddle = bookableHuddle(tx, member, huddleId);
      const cluster = deps.clusters.getById(huddle.clusterId);
      const orgKey = organisationKey(member.organisation);
      checkLimits(tx, cluster, huddle, orgKey);
      if (activeOnSlot(tx, slot.id)) throw problem('SLOT_TAKEN', `Slot ${slot.position} is booked already`);
      return insertBooking(tx, cluster, huddle, slot, member, orgKey, request, actor);
    },

    /** Whether the huddle can be booked now (for the waitlist's checks): the same rules as booking. */
    bookableHuddle,
    firstFreeSlot,
    organisationPitches,

    /** Cancels a pending or confirmed pitch. Members only until the cutoff; organisers at any time. */
    cancel(bookingId: string, who: Canceller, actor: Actor, reason: string | null = null): BookingDetails {
      return immediate(db, (tx) => {
        const d = visible(tx, bookingId, who);
        if (d.booking.status !== 'pending' && d.booking.status !== 'confirmed') throw problem('BOOKING_CANCELLED', `This booking is ${d.booking.status} already`);
        const now = clock.now();
        if (who.kind === 'member') {
          const deadline = memberCancelDeadline(d.huddle);
          if (now >= deadline) throw problem('CANCELLATION_CUTOFF_PASSED', `Members can cancel until ${deadline.toISOString()}; ask the organisers`);
        }
        const cluster = deps.clusters.getById(d.huddle.clusterId);
        const after = cancelIn(tx, d, who.kind, actor, reason, cluster);
        const late = now >= bookingWindow(d.huddle.startsAt, d.huddle).closesAt && d.huddle.startsAt > now;
        if (late && who.kind === 'member') {
          const email = lateCancellationEmail({ booking: after.booking, slot: d.slot, huddle: d.huddle, clusterName: cluster.name, memberName: d.member.name, organisation: d.member.organisation });
          for (const organiser of tx.select({ email: organisers.email }).from(organisers).where(eq(organisers.clusterId, cluster.id)).all()) {
            outbox.enqueue(tx, { kind: 'pitch.late_cancellation', to: organiser.email, clusterId: cluster.id, ...email });
          }
        }
        if (d.huddle.startsAt > now) deps.onSlotFreed?.(tx, d.huddle, d.slot);
        return after;
      });
    },

    /** Approves a pending pitch. Its slot was held all along; the limits are checked again in case the policy tightened. */
    approve(bookingId: string, organiser: OrganiserPrincipal, actor: Actor): BookingDetails {
      return immediate(db, (tx) => {
        const d = visible(tx, bookingId, organiser);
        if (d.booking.status !== 'pending') throw problem('BOOKING_NOT_PENDING', `This booking is ${d.booking.status}`);
        if (d.huddle.status === 'cancelled') throw problem('HUDDLE_CANCELLED', 'This huddle is cancelled');
        const cluster = deps.clusters.getById(d.huddle.clusterId);
        checkLimits(tx, cluster, d.huddle, d.booking.organisationKey, d.booking.id);
        const booking = setStatus(tx, d.booking, { status: 'confirmed', decidedAt: clock.now() });
        const after = { ...d, booking };
        tell(tx, 'approved', after, cluster);
        audit.record(tx, actor, { clusterId: cluster.id, action: 'booking.approved', targetType: 'booking', targetId: booking.id, before: { status: 'pending' }, after: { status: 'confirmed' } });
        return after;
      });
    },

    reject(bookingId: string, organiser: OrganiserPrincipal, actor: Actor, reason: string | null): BookingDetails {
      return immediate(db, (tx) => {
        const d = visible(tx, bookingId, organiser);
        if (d.booking.status !== 'pending') throw problem('BOOKING_NOT_PENDING', `This booking is ${d.booking.status}`);
        const cluster = deps.clusters.getById(d.huddle.clusterId);
        const booking = setStatus(tx, d.booking, { status: 'rejected', decidedAt: clock.now() });
        const after = { ...d, booking };
        tell(tx, 'rejected', after, cluster, { reason });
        audit.record(tx, actor, { clusterId: cluster.id, action: 'booking.rejected', targetType: 'booking', targetId: booking.id, before: { status: 'pending' }, after: { status: 'rejected', ...(reason ? { reason } : {}) } });
        if (d.huddle.startsAt > clock.now()) deps.onSlotFreed?.(tx, d.huddle, d.slot);
        return after;
      });
    },

    /** Every booking of a huddle, in slot order, for its organisers. */
    forHuddle(huddleId: string, status?: Booking['status']) {
      return db
        .select({ booking: bookings, slot: slots, member: members })
        .from(bookings)
        .innerJoin(slots, eq(slots.id, bookings.slotId))
        .innerJoin(members, eq(members.id, bookings.memberId))
        .where(and(eq(bookings.huddleId, huddleId), ...(status ? [eq(bookings.status, status)] : [])))
        .orderBy(asc(slots.position), asc(bookings.createdAt))
        .all();
    },

    /** The run of show: confirmed pitches in slot order. */
    agenda(huddleId: string) {
      return db
        .select({ booking: bookings, slot: slots, member: members })
        .from(bookings)
        .innerJoin(slots, eq(slots.id, bookings.slotId))
        .innerJoin(members, eq(members.id, bookings.memberId))
        .where(and(eq(bookings.huddleId, huddleId), eq(bookings.status, 'confirmed')))
        .orderBy(asc(slots.position))
        .all();
    },

    /** A member's bookings with their huddles, soonest first (for /v1/me and the private feed). */
    forMember(memberId: string, options: { since?: Date } = {}) {
      return db
        .select({ booking: bookings, slot: slots, huddle: huddles })
        .from(bookings)
        .innerJoin(slots, eq(slots.id, bookings.slotId))
        .innerJoin(huddles, eq(huddles.id, bookings.huddleId))
        .where(and(eq(bookings.memberId, memberId), ...(options.since ? [gt(huddles.startsAt, options.since)] : [])))
        .orderBy(asc(slots.startsAt))
        .all();
    },

    /** Huddle listener: a cancelled huddle cancels its pitches; a moved one (or moved slots) updates them. */
    onHuddleChanged(tx: DbOrTx, huddle: Huddle, change: HuddleChange): void {
      const active = tx.select({ id: bookings.id }).from(bookings).where(and(eq(bookings.huddleId, huddle.id), inArray(bookings.status, [...ACTIVE]))).all();
      if (active.length === 0) return;
      const cluster = deps.clusters.getById(huddle.clusterId);
      for (const { id } of active) {
        const d = details(tx, id)!;
        if (change === 'cancelled') {
          cancelIn(tx, d, 'system', { type: 'system', label: 'huddle cancelled' }, huddle.cancelReason, cluster);
        } else if (d.booking.status === 'confirmed') {
          const booking = setStatus(tx, d.booking, { sequence: d.booking.sequence + 1 });
          tell(tx, 'moved', { ...d, booking }, cluster);
        }
      }
    },
  };
}
