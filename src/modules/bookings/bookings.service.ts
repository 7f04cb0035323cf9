// Pitch bookings: book a slot, approve or reject, cancel; every check-then-write is one IMMEDIATE
// transaction, and the partial unique index bookings_active_slot makes a double booking impossible.
// The module owns the pitch slots too: it lays them out whenever a huddle is saved.
import { and, eq, inArray, sql } from 'drizzle-orm';
import { immediate, type Db, type DbOrTx } from '../../db/client.js';
import { bookings, slots, type Booking, type Cluster, type Huddle, type Slot } from '../../db/schema.js';
import { problem } from '../../errors.js';
import { chunks } from '../../lib/chunks.js';
import type { Clock } from '../../lib/clock.js';
import { hook } from '../../lib/hooks.js';
import type { MemberPrincipal, OrganiserPrincipal } from '../../shared/principals.js';
import type { Site } from '../../shared/site.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import { changedText, noticeOf, type HuddlesService } from '../huddles/huddles.service.js';
import { mustBeActive, type MembersService } from '../members/members.service.js';
import type { OrganisersService } from '../organisers/organisers.service.js';
import type { Outbox } from '../outbox/outbox.service.js';
import { createLimits } from './bookings.limits.js';
import { CANCEL_LINK_PURPOSE, createPitchNotices, type CancelledBy } from './bookings.notices.js';
import { createBooker } from './bookings.booking.js';
import { createBookingQueries } from './bookings.queries.js';
import type { BookingDetails, BookingRequest } from './bookings.types.js';
import { bookingWindow, isActiveBooking, memberCancelDeadline } from './bookings.rules.js';
import { createSlotStore } from './bookings.slots.js';

export type { Booking, Slot };
export { CANCEL_LINK_PURPOSE };
export type { BookingDetails, BookingRequest };

/** Someone who may cancel: the member who booked, or an organiser of the huddle's cluster. */
export type Canceller = MemberPrincipal | OrganiserPrincipal;

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
    /** Which of these slots another module holds for someone (the waitlist's open offers): nobody else may book them. */
    slotHolds: hook<[tx: DbOrTx, slotIds: string[]], Set<string>>(),
  };
  const slotStore = createSlotStore(db);
  const limits = createLimits({ db, huddles });
  const queries = createBookingQueries({ db, huddles, members: deps.members });
  const notices = createPitchNotices({ outbox, clock, site: deps.site, secretKey: deps.secretKey });
  const { details } = queries;
  const { tell } = notices;
  const booker = createBooker({
    db,
    clock,
    audit,
    clusters: deps.clusters,
    huddles,
    members: deps.members,
    slotStore,
    limits,
    notices,
    heldSlots: (tx, slotIds) => heldSlots(tx, slotIds),
  });

  /** Which of these slots are held for someone (the waitlist's open offers). */
  function heldSlots(tx: DbOrTx, slotIds: string[]): Set<string> {
    return new Set(slotIds.length === 0 ? [] : hooks.slotHolds.emit(tx, slotIds).flatMap((held) => [...held]));
  }

  /** How a pitcher reaches the organisers: the cluster's contact address, or else its organisers' addresses. */
  function organisersContact(tx: DbOrTx, cluster: Cluster): string {
    const addresses = cluster.contactEmail ? [cluster.contactEmail] : deps.organisers.contactsOf(tx, cluster.id);
    return addresses.length > 0 ? addresses.join(', ') : `the organisers of ${cluster.name}`;
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

  function cancelIn(
    tx: DbOrTx,
    request: { pitch: BookingDetails; by: CancelledBy; actor: Actor; reason: string | null; cluster: Cluster },
  ) {
    const { pitch: d, by, reason, cluster } = request;
    const wasConfirmed = d.booking.status === 'confirmed';
    const booking = setStatus(tx, d.booking, {
      status: 'cancelled',
      cancelledBy: by,
      cancelledAt: clock.now(),
      sequence: d.booking.sequence + (wasConfirmed ? 1 : 0),
    });
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
    const activeIds = queries.activeIn(tx, after.id);
    if (activeIds.length === 0) return;
    const cluster = deps.clusters.getById(after.clusterId);
    for (const id of activeIds) {
      const d = details(tx, id)!;
      if (notice === 'cancelled') {
        cancelIn(tx, { pitch: d, by: 'system', actor: { type: 'system', label: 'huddle cancelled' }, reason: after.cancelReason, cluster });
      } else if (d.booking.status === 'confirmed') {
        const booking = setStatus(tx, d.booking, { sequence: d.booking.sequence + 1 });
        tell(tx, {
          kind: 'moved',
          pitch: { ...d, booking },
          cluster,
          changed: notice ? changedText(change.changed) : 'the time of your slot',
        });
      }
    }
  });

  // A suspended member loses their pitches still to come: each is cancelled (they are told, and
  // their calendar drops it), and its slot goes to the waitlist. Past pitches stay as history.
  deps.members.hooks.suspended.on((tx, member, actor) => {
    const now = clock.now();
    for (const id of queries.activeOf(tx, member.id)) {
      const d = details(tx, id)!;
      if (d.huddle.startsAt <= now) continue;
      const cluster = deps.clusters.getById(d.huddle.clusterId);
      cancelIn(tx, { pitch: d, by: 'organiser', actor, reason: `Your membership of ${cluster.name} is suspended.`, cluster });
      hooks.slotFreed.emit(tx, d.huddle, d.slot);
    }
  });

  return {
    hooks,
    manageUrl: notices.manageUrl,

    get(bookingId: string, who: Canceller): BookingDetails {
      return visible(db, bookingId, who);
    },

    /** Who a pitcher of this huddle writes to when they cannot cancel themselves. */
    organisersContact(huddle: Huddle): string {
      return organisersContact(db, deps.clusters.getById(huddle.clusterId));
    },

    /** For the pages behind signed email links: the link itself is the credential. */
    find(bookingId: string): BookingDetails | undefined {
      return details(db, bookingId);
    },

    book: booker.book,
    bookOffered: booker.bookOffered,

    /** Whether the huddle can be booked now (for the waitlist's checks): the same rules as booking. */
    bookableHuddle: booker.bookableHuddle,
    firstFreeSlot: booker.firstFreeSlot,
    organisationPitches: limits.organisationPitches,

    /** One slot (a waitlist offer's). */
    slot(tx: DbOrTx, id: string): Slot | undefined {
      return slotStore.get(tx, id);
    },

    /** The huddle's slots in order. */
    slots(huddleId: string): Slot[] {
      return slotStore.all(huddleId);
    },

    /** The organisations (their keys) with a confirmed pitch at any of these huddles. */
    pitchingOrganisations(huddleIds: string[]): Set<string> {
      const keys = new Set<string>();
      for (const piece of chunks(huddleIds)) {
        for (const row of db
          .selectDistinct({ key: bookings.organisationKey })
          .from(bookings)
          .where(and(inArray(bookings.huddleId, piece), eq(bookings.status, 'confirmed')))
          .all())
          keys.add(row.key);
      }
      return keys;
    },

    /** For each huddle: its slots, and its confirmed and pending pitches (the console's dashboard). */
    tally(huddleIds: string[]): Map<string, { slots: number; confirmed: number; pending: number }> {
      const tallies = new Map(huddleIds.map((id) => [id, { slots: 0, confirmed: 0, pending: 0 }]));
      if (huddleIds.length === 0) return tallies;
      for (const row of db
        .select({ huddleId: slots.huddleId, count: sql<number>`count(*)` })
        .from(slots)
        .where(inArray(slots.huddleId, huddleIds))
        .groupBy(slots.huddleId)
        .all())
        tallies.get(row.huddleId)!.slots = row.count;
      for (const row of db
        .select({ huddleId: bookings.huddleId, status: bookings.status, count: sql<number>`count(*)` })
        .from(bookings)
        .where(inArray(bookings.huddleId, huddleIds))
        .groupBy(bookings.huddleId, bookings.status)
        .all()) {
        const tally = tallies.get(row.huddleId)!;
        if (row.status === 'confirmed' || row.status === 'pending') tally[row.status] = row.count;
      }
      return tallies;
    },

    /** Ids of the slots that hold a pending or confirmed booking, or are held for someone (an offer). */
    takenSlotIds(huddleId: string): Set<string> {
      return new Set([
        ...slotStore.bookedSlotIds(db, huddleId),
        ...heldSlots(
          db,
          slotStore.all(huddleId).map((slot) => slot.id),
        ),
      ]);
    },

    /** Cancels a pending or confirmed pitch. Members only until the cutoff; organisers at any time. */
    cancel(bookingId: string, who: Canceller, actor: Actor, reason: string | null = null): BookingDetails {
      return immediate(db, (tx) => {
        const d = visible(tx, bookingId, who);
        if (!isActiveBooking(d.booking)) throw problem('BOOKING_CANCELLED', `This booking is ${d.booking.status} already`);
        const now = clock.now();
        if (who.kind === 'member') {
          mustBeActive(d.member);
          const deadline = memberCancelDeadline(d.huddle);
          if (now >= deadline)
            throw problem(
              'CANCELLATION_CUTOFF_PASSED',
              `Members can cancel until ${deadline.toISOString()}; ask the organisers (${organisersContact(tx, deps.clusters.getById(d.huddle.clusterId))})`,
            );
        }
        const cluster = deps.clusters.getById(d.huddle.clusterId);
        const after = cancelIn(tx, { pitch: d, by: who.kind, actor, reason, cluster });
        const late = now >= bookingWindow(d.huddle.startsAt, d.huddle).closesAt && d.huddle.startsAt > now;
        if (late && who.kind === 'member')
          notices.tellOrganisersOfLateCancellation(tx, after, cluster, deps.organisers.contactsOf(tx, cluster.id));
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
        limits.check(tx, { cluster, huddle: d.huddle, orgKey: d.booking.organisationKey, excludeBookingId: d.booking.id });
        const booking = setStatus(tx, d.booking, { status: 'confirmed', decidedAt: clock.now() });
        const after = { ...d, booking };
        tell(tx, { kind: 'approved', pitch: after, cluster });
        audit.record(tx, actor, {
          clusterId: cluster.id,
          action: 'booking.approved',
          targetType: 'booking',
          targetId: booking.id,
          before: { status: 'pending' },
          after: { status: 'confirmed' },
        });
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

    /**
     * Moves a pending or confirmed pitch of a huddle still to come to another free slot of the same
     * huddle. A confirmed pitcher is told, with a calendar update; the slot left goes to the waitlist.
     */
    move(bookingId: string, slotId: string, organiser: OrganiserPrincipal, actor: Actor): BookingDetails {
      return immediate(db, (tx) => {
        const d = visible(tx, bookingId, organiser);
        if (!isActiveBooking(d.booking)) throw problem('BOOKING_CANCELLED', `This booking is ${d.booking.status}`);
        if (d.huddle.status === 'cancelled') throw problem('HUDDLE_CANCELLED', 'This huddle is cancelled');
        if (d.huddle.startsAt <= clock.now()) throw problem('BOOKING_CLOSED', 'This huddle has started: its pitches stay where they were');
        const slot = slotStore.get(tx, slotId);
        if (!slot || slot.huddleId !== d.huddle.id) {
          throw problem('SLOT_NOT_FOUND', `Huddle ${d.huddle.id} has no slot ${slotId}`, {
            errors: [{ field: 'body/slotId', message: 'is not a slot of this huddle' }],
          });
        }
        if (slot.id === d.slot.id) return d;
        if (slotStore.isBooked(tx, slot.id)) throw problem('SLOT_TAKEN', `Slot ${slot.position} is booked already`);
        if (heldSlots(tx, [slot.id]).has(slot.id)) throw problem('SLOT_TAKEN', `Slot ${slot.position} is offered to the waitlist`);
        const cluster = deps.clusters.getById(d.huddle.clusterId);
        const confirmed = d.booking.status === 'confirmed';
        const booking = setStatus(tx, d.booking, { slotId: slot.id, sequence: d.booking.sequence + (confirmed ? 1 : 0) });
        const after = { ...d, booking, slot };
        if (confirmed) tell(tx, { kind: 'moved', pitch: after, cluster, changed: 'the time of your slot' });
        audit.record(tx, actor, {
          clusterId: cluster.id,
          action: 'booking.moved',
          targetType: 'booking',
          targetId: booking.id,
          before: { slot: d.slot.position },
          after: { slot: slot.position },
        });
        hooks.slotFreed.emit(tx, d.huddle, d.slot);
        return after;
      });
    },

    forHuddle: queries.forHuddle,
    agenda: queries.agenda,
    forMember: queries.forMember,
  };
}
