// The booking rules as pure functions: which bookings hold a slot, the booking window, the member's
// cancellation cutoff and the organisation limits. The service applies them inside one IMMEDIATE transaction.
import { ACTIVE_BOOKING_STATUSES, type Booking, type Huddle } from '../../db/schema.js';
import { bookingWindow } from '../huddles/huddles.settings.js';

export { ACTIVE_BOOKING_STATUSES, bookingWindow };

/** Whether the booking holds its slot (pending approval, or confirmed). */
export function isActiveBooking(booking: Pick<Booking, 'status'>): boolean {
  return (ACTIVE_BOOKING_STATUSES as readonly string[]).includes(booking.status);
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Bookings of one organisation count together, however its members spell it ("Acme Ltd", " acme  ltd"). */
export function organisationKey(organisation: string): string {
  return organisation.trim().replace(/\s+/g, ' ').toLowerCase();
}

export type BookingWindow = ReturnType<typeof bookingWindow>;

/** Why booking is not open at `now`, or null when it is. */
export function bookingClosedReason(window: BookingWindow, now: Date): string | null {
  if (window.opensAt && now < window.opensAt) return `Booking opens at ${window.opensAt.toISOString()}`;
  if (now >= window.closesAt) return `Booking closed at ${window.closesAt.toISOString()}`;
  return null;
}

/**
 * Members may cancel their own pitch until this instant; organisers at any time. Never before booking
 * closes (huddles saved before that rule may hold a longer cutoff): whoever could book may cancel.
 */
export function memberCancelDeadline(huddle: Pick<Huddle, 'startsAt' | 'cancellationCutoffHours' | 'bookingClosesHoursBefore'>): Date {
  return new Date(huddle.startsAt.getTime() - Math.min(huddle.cancellationCutoffHours, huddle.bookingClosesHoursBefore) * HOUR_MS);
}

/**
 * True when one more pitch at `start` would put more than `max` of the organisation's pitches in some
 * window of `days` days. `others` are the starts of its other active pitches. The fullest window that
 * holds the new pitch can always be slid to begin at one of the pitches, so only those are tried.
 */
export function exceedsRollingLimit(others: Date[], start: Date, limit: { max: number; days: number }): boolean {
  const span = limit.days * DAY_MS;
  const times = [...others.map((d) => d.getTime()), start.getTime()].sort((a, b) => a - b);
  const at = start.getTime();
  for (const from of times) {
    if (from > at || from <= at - span) continue;
    const inWindow = times.filter((t) => t >= from && t < from + span).length;
    if (inWindow > limit.max) return true;
  }
  return false;
}
