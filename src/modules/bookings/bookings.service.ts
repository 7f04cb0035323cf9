// Pitch bookings: book a slot, approve or reject, cancel; every check-then-write is one IMMEDIATE
// transaction, and the partial unique index bookings_active_slot makes a double booking impossible.
// The module owns the pitch slots too: it lays them out whenever a huddle is saved.
import { and, asc, eq, inArray, ne, sql } from 'drizzle-orm';
import { immediate, type Db, type DbOrTx } from '../../db/client.js';
import { bookings, slots, type Booking, type Cluster, type Huddle, type Member, type Slot } from '../../db/schema.js';
import { problem } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { hook } from '../../lib/hooks.js';
import { newId } from '../../lib/ids.js';
import { signLink } from '../../lib/signed-links.js';
import { eventContext, renderCalendar, type CalendarMethod } from '../../shared/calendar.js';
import type { MemberPrincipal, OrganiserPrincipal } from '../../shared/principals.js';
import type { Site } from '../../shared/site.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import { noticeOf, type HuddlesService } from '../huddles/huddles.service.js';
import type { MembersService } from '../members/members.service.js';
import type { OrganisersService } from '../organisers/organisers.service.js';
import type { Outbox } from '../outbox/outbox.service.js';
import { lateCancellationEmail, pitchEmail, renderPitchEvent, type PitchEmailKind } from './bookings.render.js';
import { ACTIVE_BOOKING_STATUSES, bookingClosedReason, bookingWindow, exceedsRollingLimit, isActiveBooking, memberCancelDeadline, organisationKey } from './bookings.rules.js';
import { createSlotStore } from './bookings.slots.js';

export type { Booking, Slot };

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

type CancelledBy = 'member' | 'organiser' | 'system';

export type BookingsService = ReturnType<typeof createBookingsService>;

export function createBookingsService(deps: {
  db: Db;
  clock: Clock;
  audit: AuditService;
  outbox: Outbox;
  clusters: ClustersService;
  huddles: HuddlesService;
  members: MembersService;
  organisers: OrganisersService;
  site: Site;
  secretKey: string;
}) {
  const { db, clock, audit, outbox, huddles } = deps;
  const hooks = {
    /** A booked slot of a huddle still to come was given up (cancelled or rejected): in that transaction. */
    slotFreed: hook<[tx: DbOrTx, huddle: Huddle, slot: Slot]>(),
    /** Slots of a huddle held for someone by another module (the waitlist's open offers): nobody else may book them. */
    slotHolds: hook<[tx: DbOrTx, huddleId: string], Set<string>>(),
  };
  const slotStore = createSlotStore(db);
  const p = (name: string) => sql.placeholder(name);
  const active = inArray(bookings.status, [...ACTIVE_BOOKING_STATUSES]);

  // The reads a burst of requests for one huddle repeats, prepared once (on the connection every
  // transaction uses, so they run inside the caller's).
  const organisationCountStatement = db
    .select({ n: sql<number>`count(*)` })
    .from(bookings)
    .where(and(eq(bookings.huddleId, p('huddleId')), eq(bookings.organisationKey, p('orgKey')), active))
    .prepare();
  const activeOnSlotStatement = db.select({ id: bookings.id }).from(bookings).where(and(eq(bookings.slotId, p('slotId')), active)).prepare();

  function heldSlots(tx: DbOrTx, huddleId: string): Set<string> {
    return new Set(hooks.slotHolds.emit(tx, huddleId).flatMap((held) => [...held]));
  }

  function details(tx: DbOrTx, bookingId: string): BookingDetails | undefined {
    const row = tx.select({ booking: bookings, slot: slots }).from(bookings).innerJoin(slots, eq(slots.id, bookings.slotId)).where(eq(bookings.id, bookingId)).get();
    if (!row) return undefined;
    return { ...row, huddle: huddles.get(row.booking.huddleId), member: deps.members.byId(row.booking.memberId)! };
  }

  /** Bookings with their slots and members, in slot order. */
  function withMembers(tx: DbOrTx, rows: { booking: Booking; slot: Slot }[]) {
    const people = deps.members.getMany(tx, rows.map((row) => row.booking.memberId));
    return rows.map((row) => ({ ...row, member: people.get(row.booking.memberId)! }));
  }

  function manageUrl(bookingId: string): string {
    return `${deps.site.baseUrl}/pitches/cancel?token=${encodeURIComponent(signLink(deps.secretKey, CANCEL_LINK_PURPOSE, bookingId))}`;
  }

  /** Emails the pitcher; confirmations and moves carry the slot as METHOD:REQUEST, cancellations as CANCEL. */
  function tell(tx: DbOrTx, message: { kind: PitchEmailKind; pitch: BookingDetails; cluster: Cluster; cancelledBy?: CancelledBy; reason?: string | null; wasConfirmed?: boolean }) {
    const { kind, pitch, cluster } = message;
    const email = pitchEmail(kind, {
      booking: pitch.booking,
      slot: pitch.slot,
      huddle: pitch.huddle,
      clusterName: cluster.name,
      memberName: pitch.member.name,
      manageUrl: manageUrl(pitch.booking.id),
      cancelledBy: message.cancelledBy,
      reason: message.reason,
    });
    const method: CalendarMethod | null = kind === 'confirmed' || kind === 'approved' || kind === 'moved' ? 'REQUEST' : kind === 'cancelled' && message.wasConfirmed ? 'CANCEL' : null;
    const calendar = method
      ? {
          method,
          content: renderCalendar({ name: cluster.name, method }, [
            renderPitchEvent(pitch, eventContext(cluster, deps.site), { stamp: clock.now(), attendee: { email: pitch.member.email, name: pitch.member.name } }),
          ]),
        }
      : undefined;
    outbox.enqueue(tx, {
      kind: `pitch.${kind}`,
      to: pitch.member.email,
      clusterId: cluster.id,
      ...email,
      ...(cluster.contactEmail ? { replyTo: cluster.contactEmail } : {}),
      ...(calendar ? { calendar } : {}),
    });
  }

  /** Checks the organisation's limits for one more pitch at this huddle (pending ones count). */
  function checkLimits(tx: DbOrTx, request: { cluster: Cluster; huddle: Huddle; orgKey: string; excludeBookingId?: string }) {
    const { cluster, huddle, orgKey, excludeBookingId } = request;
    const exclude = excludeBookingId ? [ne(bookings.id, excludeBookingId)] : [];
    const here = excludeBookingId
      ? tx
          .select({ n: sql<number>`count(*)` })
          .from(bookings)
          .where(and(eq(bookings.huddleId, huddle.id), eq(bookings.organisationKey, orgKey), active, ...exclude))
          .get()!.n
      : organisationCountStatement.get({ huddleId: huddle.id, orgKey })!.n;
    const perHuddle = cluster.bookingPolicy.pitchesPerOrganisationPerHuddle;
    if (here >= perHuddle) {
      throw problem('BOOKING_LIMIT_REACHED', `Your organisation has ${here} active pitch${here === 1 ? '' : 'es'} at this huddle; the limit is ${perHuddle}`);
    }
    const rolling = cluster.bookingPolicy.rollingLimit;
    if (rolling) {
      const span = rolling.days * 86_400_000;
      const theirs = tx.select({ huddleId: bookings.huddleId }).from(bookings).where(and(eq(bookings.organisationKey, orgKey), active, ...exclude)).all();
      const starts = huddles.startsOf(tx, cluster.id, theirs.map((row) => row.huddleId));
      const others = theirs
        .map((row) => starts.get(row.huddleId))
        .filter((start): start is Date => start !== undefined && Math.abs(start.getTime() - huddle.startsAt.getTime()) < span);
      if (exceedsRollingLimit(others, huddle.startsAt, rolling)) {
        throw problem('BOOKING_LIMIT_REACHED', `Your organisation may pitch at most ${rolling.max} times in any ${rolling.days} days`);
      }
    }
  }

  /** A published huddle of the member's cluster whose booking window is open now. */
  function bookableHuddle(_tx: DbOrTx, member: Member, huddleId: string): Huddle {
    const huddle = huddles.get(huddleId);
    if (huddle.clusterId !== member.clusterId || huddle.status === 'draft') throw problem('HUDDLE_NOT_FOUND', `There is no huddle ${huddleId}`);
    if (huddle.status === 'cancelled') throw problem('HUDDLE_CANCELLED', 'This huddle is cancelled');
    const closed = bookingClosedReason(bookingWindow(huddle.startsAt, huddle), clock.now());
    if (closed) throw problem('BOOKING_CLOSED', closed);
    return huddle;
  }

  /** The first slot that holds no pending or confirmed booking and is not held for someone else. */
  function firstFreeSlot(tx: DbOrTx, huddleId: string): Slot | undefined {
    const unbooked = slotStore.unbooked(tx, huddleId);
    if (unbooked.length === 0) return undefined;
    const held = heldSlots(tx, huddleId);
    return unbooked.find((slot) => !held.has(slot.id));
  }

  /** Whether this organisation holds a pending or confirmed pitch at the huddle. */
  function organisationPitches(_tx: DbOrTx, huddleId: string, orgKey: string): boolean {
    return organisationCountStatement.get({ huddleId, orgKey })!.n > 0;
  }

  function insertBooking(tx: DbOrTx, request: { cluster: Cluster; huddle: Huddle; slot: Slot; member: Member; orgKey: string; pitch: BookingRequest; actor: Actor }): BookingDetails {
    const { cluster, huddle, slot, member, pitch } = request;
    const now = clock.now();
    const booking = tx
      .insert(bookings)
      .values({
        id: newId(),
        huddleId: huddle.id,
        slotId: slot.id,
        memberId: member.id,
        organisationKey: request.orgKey,
        title: pitch.title.trim(),
        summary: pitch.summary?.trim() ?? '',
        status: huddle.approvalRequired ? 'pending' : 'confirmed',
        sequence: 0,
        createdAt: now,
        updatedAt: now,
      })
      .returning()
      .get();
    const d = { booking, slot, huddle, member };
    tell(tx, { kind: booking.status === 'pending' ? 'pending' : 'confirmed', pitch: d, cluster });
    audit.record(tx, request.actor, {
      clusterId: cluster.id,
      action: 'booking.created',
      targetType: 'booking',
      targetId: booking.id,
      after: { huddleId: huddle.id, slot: slot.position, status: booking.status, title: booking.title },
    });
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

  function cancelIn(tx: DbOrTx, request: { pitch: BookingDetails; by: CancelledBy; actor: Actor; reason: string | null; cluster: Cluster }) {
    const { pitch: d, by, reason, cluster } = request;
    const wasConfirmed = d.booking.status === 'confirmed';
    const booking = setStatus(tx, d.booking, { status: 'cancelled', cancelledBy: by, cancelledAt: clock.now(), sequence: d.booking.sequence + (wasConfirmed ? 1 : 0) });
    const after = { ...d, booking };
    tell(tx, { kind: 'cancelled', pitch: after, cluster, cancelledBy: by, reason, wasConfirmed });
    audit.record(tx, request.actor, {
      clusterId: cluster.id,
      action: 'booking.cancelled',
      targetType: 'booking',
      targetId: booking.id,
      before: { status: d.booking.status },
      after: { status: 'cancelled', by, ...(reason ? { reason } : {}) },
    });
    return after;
  }

  // A huddle was created or saved: lay out its slots, and tell its pitchers what changed.
  huddles.hooks.changed.on((tx, change) => {
    const { before, after } = change;
    if (!before) {
      slotStore.layOut(tx, after, 'refuse');
      return;
    }
    // A cancelled huddle keeps its slots as they were; its pitches are cancelled below.
    const slotsMoved = after.status === 'cancelled' ? false : slotStore.layOut(tx, after, change.bookings);
    const notice = noticeOf(change);
    if (!notice && !(slotsMoved && before.status !== 'draft')) return;
    const activeIds = tx.select({ id: bookings.id }).from(bookings).where(and(eq(bookings.huddleId, after.id), active)).all();
    if (activeIds.length === 0) return;
    const cluster = deps.clusters.getById(after.clusterId);
    for (const { id } of activeIds) {
      const d = details(tx, id)!;
      if (notice === 'cancelled') {
        cancelIn(tx, { pitch: d, by: 'system', actor: { type: 'system', label: 'huddle cancelled' }, reason: after.cancelReason, cluster });
      } else if (d.booking.status === 'confirmed') {
        const booking = setStatus(tx, d.booking, { sequence: d.booking.sequence + 1 });
        tell(tx, { kind: 'moved', pitch: { ...d, booking }, cluster });
      }
    }
  });

  return {
    hooks,
    manageUrl,

    get(bookingId: string, who: Canceller): BookingDetails {
      return visible(db, bookingId, who);
    },

    /** For the pages behind signed email links: the link itself is the credential. */
    find(bookingId: string): BookingDetails | undefined {
      return details(db, bookingId);
    },

    /** Books a slot (the given one, or the first free one) for the member's organisation. */
    book(member: Member, huddleId: string, pitch: BookingRequest, actor: Actor): BookingDetails {
      return immediate(db, (tx) => {
        const huddle = bookableHuddle(tx, member, huddleId);
        const cluster = deps.clusters.getById(huddle.clusterId);
        const orgKey = organisationKey(member.organisation);
        checkLimits(tx, { cluster, huddle, orgKey });

        let slot: Slot | undefined;
        if (pitch.slotId) {
          slot = slotStore.get(tx, pitch.slotId);
          if (!slot || slot.huddleId !== huddle.id) {
            throw problem('SLOT_NOT_FOUND', `Huddle ${huddle.id} has no slot ${pitch.slotId}`, { errors: [{ field: 'body/slotId', message: 'is not a slot of this huddle' }] });
          }
          if (activeOnSlotStatement.get({ slotId: slot.id })) throw problem('SLOT_TAKEN', `Slot ${slot.position} is booked already`);
          if (heldSlots(tx, huddle.id).has(slot.id)) throw problem('SLOT_TAKEN', `Slot ${slot.position} is offered to the waitlist`);
        } else {
          slot = firstFreeSlot(tx, huddle.id);
          if (!slot) {
            throw problem(
              'NO_SLOTS_LEFT',
              slotStore.hasAny(huddle.id) ? 'Every slot of this huddle is booked; join the waitlist to be offered one that frees up' : 'This huddle has no pitch slots (its pitch.slotCount is 0)',
            );
          }
        }
        return insertBooking(tx, { cluster, huddle, slot, member, orgKey, pitch, actor });
      });
    },

    /**
     * Books a slot the waitlist offered, inside the caller's transaction: the window and the
     * organisation's limits are checked again; the slot was held for this member by the offer.
     */
    bookOffered(tx: DbOrTx, offered: { member: Member; huddleId: string; slot: Slot; pitch: BookingRequest; actor: Actor }): BookingDetails {
      const { member, slot } = offered;
      const huddle = bookableHuddle(tx, member, offered.huddleId);
      const cluster = deps.clusters.getById(huddle.clusterId);
      const orgKey = organisationKey(member.organisation);
      checkLimits(tx, { cluster, huddle, orgKey });
      if (activeOnSlotStatement.get({ slotId: slot.id })) throw problem('SLOT_TAKEN', `Slot ${slot.position} is booked already`);
      return insertBooking(tx, { cluster, huddle, slot, member, orgKey, pitch: offered.pitch, actor: offered.actor });
    },

    /** Whether the huddle can be booked now (for the waitlist's checks): the same rules as booking. */
    bookableHuddle,
    firstFreeSlot,
    organisationPitches,

    /** One slot (a waitlist offer's). */
    slot(tx: DbOrTx, id: string): Slot | undefined {
      return slotStore.get(tx, id);
    },

    /** The huddle's slots in order. */
    slots(huddleId: string): Slot[] {
      return slotStore.all(huddleId);
    },

    /** Ids of the slots that hold a pending or confirmed booking, or are held for someone (an offer). */
    takenSlotIds(huddleId: string): Set<string> {
      return new Set([...slotStore.bookedSlotIds(db, huddleId), ...heldSlots(db, huddleId)]);
    },

    /** Cancels a pending or confirmed pitch. Members only until the cutoff; organisers at any time. */
    cancel(bookingId: string, who: Canceller, actor: Actor, reason: string | null = null): BookingDetails {
      return immediate(db, (tx) => {
        const d = visible(tx, bookingId, who);
        if (!isActiveBooking(d.booking)) throw problem('BOOKING_CANCELLED', `This booking is ${d.booking.status} already`);
        const now = clock.now();
        if (who.kind === 'member') {
          const deadline = memberCancelDeadline(d.huddle);
          if (now >= deadline) throw problem('CANCELLATION_CUTOFF_PASSED', `Members can cancel until ${deadline.toISOString()}; ask the organisers`);
        }
        const cluster = deps.clusters.getById(d.huddle.clusterId);
        const after = cancelIn(tx, { pitch: d, by: who.kind, actor, reason, cluster });
        const late = now >= bookingWindow(d.huddle.startsAt, d.huddle).closesAt && d.huddle.startsAt > now;
        if (late && who.kind === 'member') {
          const email = lateCancellationEmail({ booking: after.booking, slot: d.slot, huddle: d.huddle, clusterName: cluster.name, memberName: d.member.name, organisation: d.member.organisation });
          for (const organiser of deps.organisers.contactsOf(tx, cluster.id)) {
            outbox.enqueue(tx, { kind: 'pitch.late_cancellation', to: organiser, clusterId: cluster.id, ...email });
          }
        }
        if (d.huddle.startsAt > now) hooks.slotFreed.emit(tx, d.huddle, d.slot);
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
        checkLimits(tx, { cluster, huddle: d.huddle, orgKey: d.booking.organisationKey, excludeBookingId: d.booking.id });
        const booking = setStatus(tx, d.booking, { status: 'confirmed', decidedAt: clock.now() });
        const after = { ...d, booking };
        tell(tx, { kind: 'approved', pitch: after, cluster });
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
        tell(tx, { kind: 'rejected', pitch: after, cluster, reason });
        audit.record(tx, actor, {
          clusterId: cluster.id,
          action: 'booking.rejected',
          targetType: 'booking',
          targetId: booking.id,
          before: { status: 'pending' },
          after: { status: 'rejected', ...(reason ? { reason } : {}) },
        });
        if (d.huddle.startsAt > clock.now()) hooks.slotFreed.emit(tx, d.huddle, d.slot);
        return after;
      });
    },

    /** Every booking of a huddle, in slot order, for its organisers. */
    forHuddle(huddleId: string, status?: Booking['status']) {
      const rows = db
        .select({ booking: bookings, slot: slots })
        .from(bookings)
        .innerJoin(slots, eq(slots.id, bookings.slotId))
        .where(and(eq(bookings.huddleId, huddleId), ...(status ? [eq(bookings.status, status)] : [])))
        .orderBy(asc(slots.position), asc(bookings.createdAt))
        .all();
      return withMembers(db, rows);
    },

    /** The run of show: confirmed pitches in slot order (the agenda, and the reminder email in the job's transaction). */
    agenda(tx: DbOrTx, huddleId: string) {
      const rows = tx
        .select({ booking: bookings, slot: slots })
        .from(bookings)
        .innerJoin(slots, eq(slots.id, bookings.slotId))
        .where(and(eq(bookings.huddleId, huddleId), eq(bookings.status, 'confirmed')))
        .orderBy(asc(slots.position))
        .all();
      return withMembers(tx, rows);
    },

    /** A member's bookings with their huddles, soonest first (for /v1/me and the private feed); `since` keeps huddles starting after it. */
    forMember(memberId: string, options: { since?: Date } = {}) {
      const rows = db
        .select({ booking: bookings, slot: slots })
        .from(bookings)
        .innerJoin(slots, eq(slots.id, bookings.slotId))
        .where(eq(bookings.memberId, memberId))
        .orderBy(asc(slots.startsAt))
        .all();
      const theirHuddles = huddles.getMany(db, rows.map((row) => row.booking.huddleId));
      return rows
        .map((row) => ({ ...row, huddle: theirHuddles.get(row.booking.huddleId)! }))
        .filter((row) => !options.since || row.huddle.startsAt > options.since);
    },
  };
}
