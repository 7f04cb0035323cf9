// Pitch slots: laid out from each huddle's pitch settings whenever it is saved, position by position so
// a booking keeps its slot; read for booking, for the slot list and for the waitlist's offers.
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.js';
import { fastRows } from '../../db/rows.js';
import { activeBooking, bookings, slots, type Huddle, type Slot } from '../../db/schema.js';
import { problem } from '../../errors.js';
import { newId } from '../../lib/ids.js';
import type { BookingsChoice } from '../huddles/huddles.service.js';
import { computeSlots } from '../huddles/huddles.slots.js';

export type { Slot };

export type SlotStore = ReturnType<typeof createSlotStore>;

export function createSlotStore(db: Db) {
  const p = (name: string) => sql.placeholder(name);
  const active = activeBooking;
  // A burst of requests for one huddle runs these reads again and again: prepared once, on the
  // connection every transaction uses, so they run inside the caller's.
  const freeSlots = fastRows(
    db
      .select()
      .from(slots)
      .where(
        and(
          eq(slots.huddleId, p('huddleId')),
          sql`NOT EXISTS (SELECT 1 FROM ${bookings} WHERE ${bookings.slotId} = ${slots.id} AND ${active})`,
        ),
      )
      .orderBy(asc(slots.position))
      .prepare(),
  );
  const bookingOnSlot = db
    .select({ id: bookings.id })
    .from(bookings)
    .where(and(eq(bookings.slotId, p('slotId')), active))
    .prepare();
  const byId = db
    .select()
    .from(slots)
    .where(eq(slots.id, p('id')))
    .prepare();

  function bookedSlotIds(tx: DbOrTx, huddleId: string): Set<string> {
    return new Set(
      tx
        .select({ slotId: bookings.slotId })
        .from(bookings)
        .where(and(eq(bookings.huddleId, huddleId), active))
        .all()
        .map((row) => row.slotId),
    );
  }

  return {
    bookedSlotIds,

    /** The huddle's slots in order. */
    all(huddleId: string): Slot[] {
      return db.select().from(slots).where(eq(slots.huddleId, huddleId)).orderBy(asc(slots.position)).all();
    },

    get(_tx: DbOrTx, id: string): Slot | undefined {
      return byId.get({ id });
    },

    /** The huddle's slots that hold no pending or confirmed booking, in order. */
    unbooked(_tx: DbOrTx, huddleId: string): Slot[] {
      return freeSlots.all({ huddleId });
    },

    /** Whether the slot holds a pending or confirmed booking. */
    isBooked(_tx: DbOrTx, slotId: string): boolean {
      return bookingOnSlot.get({ slotId }) !== undefined;
    },

    /**
     * Brings the stored slots in line with the huddle, position by position, so a booking keeps its
     * slot. Removing a booked slot is always refused; moving one is refused unless the organiser chose
     * 'move'. Returns whether any booked slot moved.
     */
    layOut(tx: DbOrTx, huddle: Huddle, choice: BookingsChoice): boolean {
      const times = computeSlots(huddle.startsAt, {
        slotCount: huddle.slotCount,
        slotMinutes: huddle.slotMinutes,
        changeoverMinutes: huddle.changeoverMinutes,
        startOffsetMinutes: huddle.pitchOffsetMinutes,
      });
      const existing = tx.select().from(slots).where(eq(slots.huddleId, huddle.id)).orderBy(asc(slots.position)).all();
      const booked = existing.length > 0 ? bookedSlotIds(tx, huddle.id) : new Set<string>();
      const removedBooked = existing.slice(times.length).filter((slot) => booked.has(slot.id));
      if (removedBooked.length > 0) {
        throw problem(
          'BOOKINGS_AFFECTED',
          `Slots ${removedBooked.map((slot) => slot.position).join(', ')} have bookings: cancel those bookings before removing their slots`,
        );
      }
      const moving = existing.flatMap((slot, index) => {
        const next = times[index];
        return next && (slot.startsAt.getTime() !== next.startsAt.getTime() || slot.endsAt.getTime() !== next.endsAt.getTime())
          ? [{ slot, next }]
          : [];
      });
      const movingBooked = moving.filter(({ slot }) => booked.has(slot.id)).length;
      if (movingBooked > 0 && choice !== 'move') {
        throw problem(
          'BOOKINGS_AFFECTED',
          `This change moves ${movingBooked} booked pitch${movingBooked === 1 ? '' : 'es'}; send it again with ?bookings=move to move ` +
            `${movingBooked === 1 ? 'it' : 'them'} and tell the pitchers`,
          { affected: movingBooked },
        );
      }
      for (const { slot, next } of moving) {
        tx.update(slots).set({ startsAt: next.startsAt, endsAt: next.endsAt }).where(eq(slots.id, slot.id)).run();
      }
      const movedBooked = movingBooked > 0;
      if (existing.length > times.length)
        tx.delete(slots)
          .where(and(eq(slots.huddleId, huddle.id), gt(slots.position, times.length)))
          .run();
      const added = times.slice(existing.length);
      if (added.length > 0)
        tx.insert(slots)
          .values(added.map((slot) => ({ id: newId(), huddleId: huddle.id, ...slot })))
          .run();
      return movedBooked;
    },
  };
}
