// The waitlist API contract: a member organisation's place in line and the slot offered to it.
import { Type } from 'typebox';
import { Id } from '../../lib/schema-types.js';
import { ZonedTime } from '../huddles/huddles.schemas.js';

export const WaitlistPlace = Type.Object({
  id: Id,
  huddleId: Id,
  huddleTitle: Type.String(),
  status: Type.String({ description: 'waiting, or offered (a slot is held for you: see offer)' }),
  position: Type.Integer({ description: "Your organisation's place in line, 1 first" }),
  title: Type.String({ description: 'The pitch you queued with' }),
  offer: Type.Union([
    Type.Object({
      id: Id,
      slot: Type.Object({ id: Id, position: Type.Integer(), start: ZonedTime, end: ZonedTime }),
      expiresAt: Type.String({ format: 'date-time', description: 'Accept before this, or the slot goes to the next in line' }),
    }),
    Type.Null(),
  ]),
});
