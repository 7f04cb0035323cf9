// The shapes the bookings service and its parts pass between them (types only, so the parts import no service).
import type { Booking, Huddle, Member, Slot } from '../../db/schema.js';

export interface BookingRequest {
  slotId?: string;
  title: string;
  summary?: string;
  /** One of the huddle's themes. */
  theme?: string;
  /** Whether the follow-up newsletter may give the pitcher's email address. */
  shareContact?: boolean;
}

/** A booking with what the API and emails show about it. */
export interface BookingDetails {
  booking: Booking;
  slot: Slot;
  huddle: Huddle;
  member: Member;
}
