// The account API contract: the signed-in member's own view, with their pitches, places and feed.
import { Type } from 'typebox';
import { BookingView } from '../bookings/bookings.schemas.js';
import { CalendarLinks, MemberView } from '../members/members.schemas.js';
import { RegistrationView } from '../registrations/registrations.schemas.js';
import { WaitlistPlace } from '../waitlist/waitlist.schemas.js';

export const MeView = Type.Object({
  member: MemberView,
  clusterName: Type.String({ description: "The cluster's display name" }),
  calendar: CalendarLinks,
  bookings: Type.Array(BookingView, { description: 'Your pitches at huddles from the last 30 days on, soonest first' }),
  registrations: Type.Array(RegistrationView, { description: 'Huddles you are registered for or waiting to attend, soonest first' }),
  waitlist: Type.Array(WaitlistPlace, {
    description: "Your organisation's places in pitch waitlists, with any slot offered to you and its deadline",
  }),
});
