// How a booking and a pitch slot are shown over the API.
import type { Booking, Huddle, Member, Slot } from '../../db/schema.js';
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
