// The registrations API contract: a member's place in a huddle's audience, and the organisers' list.
import { Type } from 'typebox';
import { Id } from '../../lib/schema-types.js';

export const RegistrationView = Type.Object({
  id: Id,
  huddleId: Id,
  huddleTitle: Type.String(),
  status: Type.String({ description: 'registered, or waitlisted while the huddle is full (you are promoted automatically, in order)' }),
  position: Type.Union([Type.Integer(), Type.Null()], { description: 'Place on the waiting list, 1 first; null when registered' }),
  createdAt: Type.String({ format: 'date-time' }),
});

export const AudienceList = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Id,
      status: Type.String({ description: 'registered, waitlisted or cancelled' }),
      member: Type.Object({
        id: Id,
        name: Type.String(),
        email: Type.String(),
        organisation: Type.String(),
        organisationType: Type.String(),
      }),
      createdAt: Type.String({ format: 'date-time' }),
    }),
  ),
});
