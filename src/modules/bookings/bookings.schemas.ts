// The bookings API contract: booking a pitch slot, the booking as members and organisers see it, the agenda.
import { Type } from 'typebox';
import { Id, Line, Paragraphs } from '../../lib/schema-types.js';
import { ZonedTime } from '../huddles/huddles.schemas.js';

export const BookingParams = Type.Object({ id: Id });

export const BookingCreate = Type.Object(
  {
    slotId: Type.Optional(Type.String({ format: 'uuid', description: 'The slot to book; without it, the first free slot' })),
    title: Line({ description: 'What the pitch is about, shown on the agenda', maxLength: 200 }),
    summary: Type.Optional(Paragraphs({ description: 'A few lines for the organisers and the agenda', maxLength: 2000 })),
    theme: Type.Optional(
      Type.String({ description: "One of the huddle's themes the pitch is about (the pitch digest groups by it)", maxLength: 40 }),
    ),
    shareContact: Type.Optional(
      Type.Boolean({
        description: 'Whether the follow-up newsletter after the huddle may give the pitcher’s email address (default false)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const BookingStatus = Type.Union(
  [Type.Literal('pending'), Type.Literal('confirmed'), Type.Literal('rejected'), Type.Literal('cancelled')],
  {
    description: 'pending (waiting for approval, the slot is held), confirmed, rejected or cancelled',
  },
);

export const BookingView = Type.Object(
  {
    id: Id,
    huddleId: Id,
    status: BookingStatus,
    slot: Type.Object({ id: Id, position: Type.Integer({ description: '1 for the first pitch' }), start: ZonedTime, end: ZonedTime }),
    title: Type.String({ description: 'Pitch title' }),
    summary: Type.String({ description: 'Pitch summary' }),
    theme: Type.Union([Type.String(), Type.Null()], { description: "The huddle's theme the pitch is about" }),
    shareContact: Type.Boolean({ description: 'The pitcher agreed that the follow-up newsletter may give their email address' }),
    organisation: Type.String({ description: 'The member organisation pitching' }),
    member: Type.Object({ id: Id, name: Type.String(), email: Type.String() }, { description: 'Who booked' }),
    cancelledBy: Type.Union([Type.String(), Type.Null()], { description: 'member, organiser or system (the huddle was cancelled)' }),
    memberCanCancelUntil: Type.String({ format: 'date-time', description: 'Members may cancel until then; organisers at any time' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { description: 'A pitch booking' },
);

export const BookingList = Type.Object({ items: Type.Array(BookingView) });

export const BookingListQuery = Type.Object({ status: Type.Optional(BookingStatus) }, { additionalProperties: false });

export const CancelQuery = Type.Object(
  { reason: Type.Optional(Line({ description: 'Why (organisers): sent to the member', maxLength: 500 })) },
  { additionalProperties: false },
);

export const RejectBody = Type.Object(
  { reason: Type.Optional(Paragraphs({ description: 'Why the pitch is not accepted: sent to the member', maxLength: 1000 })) },
  { additionalProperties: false },
);

export const MoveBody = Type.Object(
  { slotId: Type.String({ format: 'uuid', description: 'The free slot of the same huddle to move the pitch to' }) },
  { additionalProperties: false },
);

export const AgendaItem = Type.Object({
  position: Type.Integer({ description: 'Slot number, 1 first' }),
  start: ZonedTime,
  end: ZonedTime,
  organisation: Type.String({ description: 'The organisation pitching' }),
  organisationType: Type.String({ description: 'Its kind: company, university, nhs, public-sector, investor, charity or other' }),
  title: Type.String({ description: 'Pitch title' }),
  summary: Type.String({ description: 'Pitch summary' }),
  presenter: Type.Optional(Type.Object({ name: Type.String(), email: Type.String() }, { description: 'Organisers only' })),
});

export const Agenda = Type.Object(
  {
    huddleId: Id,
    title: Type.String({ description: 'Huddle title' }),
    items: Type.Array(AgendaItem, { description: 'Confirmed pitches in slot order' }),
  },
  {
    description:
      "The run of show. The public sees organisations, titles and summaries; presenters' names and emails are for organisers only.",
  },
);
export const SlotView = Type.Object({
  id: Id,
  position: Type.Integer({ description: '1 for the first pitch' }),
  start: ZonedTime,
  end: ZonedTime,
  available: Type.Boolean({ description: 'Whether the slot can be booked now: booking is open and nobody holds it' }),
});
export const SlotList = Type.Object({ items: Type.Array(SlotView) });
