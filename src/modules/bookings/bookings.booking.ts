// Making a booking: the huddle must be bookable by the member now, the organisation within its limits,
// and the slot (the one asked for, or the first free one) neither booked nor held for someone else;
// then the booking, its notice to the pitcher and its audit entry are written in one transaction.
import { immediate, rawPlaceholder, type Db, type DbOrTx } from '../../db/client.js';
import { bookings, type Booking, type Cluster, type Huddle, type Member, type Slot } from '../../db/schema.js';
import { isAppError, problem, type AppError } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { HuddlesService } from '../huddles/huddles.service.js';
import { mustBeActive, type MembersService } from '../members/members.service.js';
import type { createLimits } from './bookings.limits.js';
import type { createPitchNotices } from './bookings.notices.js';
import { bookingClosedReason, bookingWindow, organisationKey } from './bookings.rules.js';
import type { BookingDetails, BookingRequest } from './bookings.types.js';
import type { SlotStore } from './bookings.slots.js';

export function createBooker(deps: {
  db: Db;
  clock: Clock;
  audit: AuditService;
  clusters: ClustersService;
  huddles: HuddlesService;
  members: Pick<MembersService, 'signedIn'>;
  slotStore: SlotStore;
  limits: ReturnType<typeof createLimits>;
  notices: ReturnType<typeof createPitchNotices>;
  /** Which of these slots are held for someone else (bookings.hooks.slotHolds). */
  heldSlots: (tx: DbOrTx, slotIds: string[]) => Set<string>;
}) {
  const { db, clock, audit, huddles, slotStore, limits, heldSlots } = deps;
  const { tell } = deps.notices;
  // Every booking runs this: prepared once (on the connection every transaction uses).
  const insertStatement = db
    .insert(bookings)
    .values({
      id: rawPlaceholder('id'),
      huddleId: rawPlaceholder('huddleId'),
      slotId: rawPlaceholder('slotId'),
      memberId: rawPlaceholder('memberId'),
      organisationKey: rawPlaceholder('organisationKey'),
      title: rawPlaceholder('title'),
      summary: rawPlaceholder('summary'),
      theme: rawPlaceholder('theme'),
      shareContact: rawPlaceholder('shareContact'),
      status: rawPlaceholder('status'),
      sequence: 0,
      createdAt: rawPlaceholder('now'),
      updatedAt: rawPlaceholder('now'),
    })
    .prepare();

  /** A published huddle of the member's cluster whose booking window is open now; the member must be active. */
  function bookableHuddle(_tx: DbOrTx, member: Member, huddleId: string): Huddle {
    mustBeActive(member);
    const huddle = huddles.get(huddleId);
    if (huddle.clusterId !== member.clusterId || huddle.status === 'draft')
      throw problem('HUDDLE_NOT_FOUND', `There is no huddle ${huddleId}`);
    if (huddle.status === 'cancelled') throw problem('HUDDLE_CANCELLED', 'This huddle is cancelled');
    const closed = bookingClosedReason(bookingWindow(huddle.startsAt, huddle), clock.now());
    if (closed) throw problem('BOOKING_CLOSED', closed);
    return huddle;
  }

  /** The first slot that holds no pending or confirmed booking and is not held for someone else. */
  function firstFreeSlot(tx: DbOrTx, huddleId: string): Slot | undefined {
    const unbooked = slotStore.unbooked(tx, huddleId);
    if (unbooked.length === 0) return undefined;
    const held = heldSlots(
      tx,
      unbooked.map((slot) => slot.id),
    );
    return unbooked.find((slot) => !held.has(slot.id));
  }

  function insertBooking(
    tx: DbOrTx,
    request: { cluster: Cluster; huddle: Huddle; slot: Slot; member: Member; orgKey: string; pitch: BookingRequest; actor: Actor },
  ): BookingDetails {
    const { cluster, huddle, slot, member, pitch } = request;
    const now = clock.now();
    // The row as written (nothing in it comes from the database, so no RETURNING).
    const booking: Booking = {
      id: newId(),
      huddleId: huddle.id,
      slotId: slot.id,
      memberId: member.id,
      organisationKey: request.orgKey,
      title: pitch.title.trim(),
      summary: pitch.summary?.trim() ?? '',
      theme: pitch.theme ?? null,
      shareContact: pitch.shareContact ?? false,
      status: huddle.approvalRequired ? 'pending' : 'confirmed',
      sequence: 0,
      cancelledBy: null,
      createdAt: now,
      updatedAt: now,
      decidedAt: null,
      cancelledAt: null,
    };
    insertStatement.run({ ...booking, shareContact: booking.shareContact ? 1 : 0, now: now.getTime() });
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

  return {
    bookableHuddle,
    firstFreeSlot,

    /**
     * Books a slot (the given one, or the first free one) for the member's organisation. The member is read
     * inside the transaction, so one suspended a moment before cannot book (and the read costs less there).
     */
    book(memberId: string, huddleId: string, pitch: BookingRequest, actor: Actor): BookingDetails {
      // A refusal (every slot taken, a limit reached, …) comes back out of the transaction as a value and
      // is thrown here: thrown through the transaction function, it cost a rollback and an exception
      // across the driver's native code, for each of a burst's many refusals (issue 16). Every refusal
      // comes before anything is written, so ending its transaction with a commit changes nothing.
      let written = false;
      const outcome = immediate(db, (tx): BookingDetails | { refusal: AppError } => {
        try {
          return attempt(tx);
        } catch (error) {
          if (isAppError(error) && !written) return { refusal: error };
          throw error;
        }
      });
      if ('refusal' in outcome) throw outcome.refusal;
      return outcome;

      function attempt(tx: DbOrTx): BookingDetails {
        const member = deps.members.signedIn({ memberId });
        const huddle = bookableHuddle(tx, member, huddleId);
        // The policy is all a refusal needs; the whole cluster (its sender, for the email) only for a booking.
        const policy = deps.clusters.policyOf(huddle.clusterId);
        const orgKey = organisationKey(member.organisation);
        if (pitch.theme !== undefined && !huddle.themes.includes(pitch.theme)) {
          throw problem(
            'VALIDATION_FAILED',
            `theme ${pitch.theme} is not one of this huddle's themes (${huddle.themes.join(', ') || 'none'})`,
            {
              errors: [{ field: 'body/theme', message: "is not one of the huddle's themes" }],
            },
          );
        }
        limits.check(tx, { cluster: policy, huddle, orgKey });

        let slot: Slot | undefined;
        if (pitch.slotId) {
          slot = slotStore.get(tx, pitch.slotId);
          if (!slot || slot.huddleId !== huddle.id) {
            throw problem('SLOT_NOT_FOUND', `Huddle ${huddle.id} has no slot ${pitch.slotId}`, {
              errors: [{ field: 'body/slotId', message: 'is not a slot of this huddle' }],
            });
          }
          if (slotStore.isBooked(tx, slot.id)) throw problem('SLOT_TAKEN', `Slot ${slot.position} is booked already`);
          if (heldSlots(tx, [slot.id]).has(slot.id)) throw problem('SLOT_TAKEN', `Slot ${slot.position} is offered to the waitlist`);
        } else {
          slot = firstFreeSlot(tx, huddle.id);
          if (!slot) {
            throw problem(
              'NO_SLOTS_LEFT',
              huddle.slotCount > 0
                ? 'Every slot of this huddle is booked; join the waitlist to be offered one that frees up'
                : 'This huddle has no pitch slots (its pitch.slotCount is 0)',
            );
          }
        }
        written = true;
        return insertBooking(tx, { cluster: deps.clusters.getById(huddle.clusterId), huddle, slot, member, orgKey, pitch, actor });
      }
    },

    /**
     * Books a slot the waitlist offered, inside the caller's transaction: the window and the
     * organisation's limits are checked again; the slot was held for this member by the offer.
     */
    bookOffered(
      tx: DbOrTx,
      offered: { member: Member; huddleId: string; slot: Slot; pitch: BookingRequest; actor: Actor },
    ): BookingDetails {
      const { member, slot } = offered;
      const huddle = bookableHuddle(tx, member, offered.huddleId);
      const cluster = deps.clusters.getById(huddle.clusterId);
      const orgKey = organisationKey(member.organisation);
      limits.check(tx, { cluster, huddle, orgKey });
      if (slotStore.isBooked(tx, slot.id)) throw problem('SLOT_TAKEN', `Slot ${slot.position} is booked already`);
      return insertBooking(tx, { cluster, huddle, slot, member, orgKey, pitch: offered.pitch, actor: offered.actor });
    },
  };
}
