// The bookings read with their slots, huddles and members: for the API's views, the agenda, the
// member's own view and feed, and the reminder email.
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.js';
import { activeBooking, bookings, slots, type Booking, type Slot } from '../../db/schema.js';
import type { HuddlesService } from '../huddles/huddles.service.js';
import type { MembersService } from '../members/members.service.js';
import type { BookingDetails } from './bookings.types.js';

export function createBookingQueries(deps: { db: Db; huddles: HuddlesService; members: MembersService }) {
  const { db, huddles, members } = deps;

  /** Bookings with their slots, and their members read in one query. */
  function withMembers(tx: DbOrTx, rows: { booking: Booking; slot: Slot }[]) {
    const people = members.getMany(
      tx,
      rows.map((row) => row.booking.memberId),
    );
    return rows.map((row) => ({ ...row, member: people.get(row.booking.memberId)! }));
  }

  // The agenda is read by every huddle page and agenda request: prepared once (building and preparing the
  // query each time was a quarter of a huddle page's time).
  const agendaRows = db
    .select({ booking: bookings, slot: slots })
    .from(bookings)
    .innerJoin(slots, eq(slots.id, bookings.slotId))
    .where(and(eq(bookings.huddleId, sql.placeholder('huddleId')), eq(bookings.status, 'confirmed')))
    .orderBy(asc(slots.position))
    .prepare();

  return {
    /** The ids of a huddle's pending and confirmed bookings. */
    activeIn(tx: DbOrTx, huddleId: string): string[] {
      return tx
        .select({ id: bookings.id })
        .from(bookings)
        .where(and(eq(bookings.huddleId, huddleId), activeBooking))
        .all()
        .map((row) => row.id);
    },

    /** The ids of a member's pending and confirmed bookings, at any huddle. */
    activeOf(tx: DbOrTx, memberId: string): string[] {
      return tx
        .select({ id: bookings.id })
        .from(bookings)
        .where(and(eq(bookings.memberId, memberId), activeBooking))
        .all()
        .map((row) => row.id);
    },

    /** One booking with its slot, huddle and member. */
    details(tx: DbOrTx, bookingId: string): BookingDetails | undefined {
      const row = tx
        .select({ booking: bookings, slot: slots })
        .from(bookings)
        .innerJoin(slots, eq(slots.id, bookings.slotId))
        .where(eq(bookings.id, bookingId))
        .get();
      if (!row) return undefined;
      return { ...row, huddle: huddles.get(row.booking.huddleId), member: members.byId(row.booking.memberId)! };
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
      // One connection: the statement prepared on it reads inside the caller's transaction too.
      return withMembers(tx, agendaRows.all({ huddleId }));
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
      const theirHuddles = huddles.getMany(
        db,
        rows.map((row) => row.booking.huddleId),
      );
      return rows
        .map((row) => ({ ...row, huddle: theirHuddles.get(row.booking.huddleId)! }))
        .filter((row) => !options.since || row.huddle.startsAt > options.since);
    },
  };
}
