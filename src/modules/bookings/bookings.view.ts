// How a booking and a pitch slot are shown over the API.
import type { Booking, Huddle, Member, Slot } from '../../db/schema.js';
import { toCsv } from '../../lib/csv.js';
import { zoned } from '../huddles/huddles.time.js';
import { memberCancelDeadline } from './bookings.rules.js';

export function bookingView(booking: Booking, slot: Slot, huddle: Huddle, member: Member) {
  return {
    id: booking.id,
    huddleId: booking.huddleId,
    status: booking.status,
    slot: { id: slot.id, position: slot.position, start: zoned(slot.startsAt, huddle.timezone), end: zoned(slot.endsAt, huddle.timezone) },
    title: booking.title,
    summary: booking.summary,
    theme: booking.theme,
    shareContact: booking.shareContact,
    organisation: member.organisation,
    member: { id: member.id, name: member.name, email: member.email },
    cancelledBy: booking.cancelledBy,
    memberCanCancelUntil: memberCancelDeadline(huddle).toISOString(),
    createdAt: booking.createdAt.toISOString(),
    updatedAt: booking.updatedAt.toISOString(),
  };
}

export function slotView(slot: Slot, zone: string, available: boolean) {
  return { id: slot.id, position: slot.position, start: zoned(slot.startsAt, zone), end: zoned(slot.endsAt, zone), available };
}

/** A huddle's bookings as CSV, one row per pitch in slot order (the API's Accept: text/csv, the console's download). */
export function bookingsCsv(huddle: Huddle, rows: { booking: Booking; slot: Slot; member: Member }[]): string {
  return toCsv(
    ['slot', 'start', 'end', 'status', 'organisation', 'organisation_type', 'name', 'email', 'title', 'summary', 'booked_at'],
    rows.map(({ booking, slot, member }) => [
      slot.position,
      zoned(slot.startsAt, huddle.timezone).local,
      zoned(slot.endsAt, huddle.timezone).local,
      booking.status,
      member.organisation,
      member.organisationType,
      member.name,
      member.email,
      booking.title,
      booking.summary,
      booking.createdAt.toISOString(),
    ]),
  );
}
