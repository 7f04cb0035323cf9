// How an organisation's place in a waitlist, and the slot offered to it, are shown over the API.
import type { Huddle, Slot, WaitlistEntry, WaitlistOffer } from '../../db/schema.js';
import { zoned } from '../huddles/huddles.time.js';

export function waitlistPlace(entry: WaitlistEntry, huddle: Huddle, position: number, offer: { offer: WaitlistOffer; slot: Slot } | null) {
  return {
    id: entry.id,
    huddleId: huddle.id,
    huddleTitle: huddle.title,
    status: entry.status,
    position,
    title: entry.title,
    offer: offer
      ? {
          id: offer.offer.id,
          slot: {
            id: offer.slot.id,
            position: offer.slot.position,
            start: zoned(offer.slot.startsAt, huddle.timezone),
            end: zoned(offer.slot.endsAt, huddle.timezone),
          },
          expiresAt: offer.offer.expiresAt.toISOString(),
        }
      : null,
  };
}
