// The huddles API contract: create, edit, list, series, and the public and organiser views.
import { Type, type Static } from 'typebox';
import { HttpUrl, Id, Line, Paragraphs, Slug, TimeZone } from '../../lib/schema-types.js';

const TimeInput = Type.String({
  description: 'ISO 8601 with an offset (2026-12-01T09:30:00+00:00), or local wall-clock time (2026-12-01T09:30) read in `timezone`',
  minLength: 16,
  maxLength: 35,
});

const Theme = Type.String({ description: "A theme from the cluster's vocabulary", maxLength: 40 });

const Venue = Type.Object(
  {
    name: Line({ description: 'Venue name', maxLength: 200 }),
    address: Type.Optional(Type.Union([Paragraphs({ description: 'Street address', maxLength: 500 }), Type.Null()])),
  },
  { additionalProperties: false, description: 'Where the huddle meets in person' },
);

const PitchFields = {
  slotCount: Type.Integer({ minimum: 0, maximum: 50, description: 'Number of pitch slots (0: no pitches)' }),
  slotMinutes: Type.Integer({ minimum: 1, maximum: 60, description: 'Length of one pitch' }),
  changeoverMinutes: Type.Integer({ minimum: 0, maximum: 30, description: 'Gap between pitches' }),
  startOffsetMinutes: Type.Integer({
    minimum: 0,
    maximum: 1440,
    description: 'Minutes after the huddle starts that the first pitch starts',
  }),
  bookingOpensDaysBefore: Type.Union([Type.Integer({ minimum: 0, maximum: 365 }), Type.Null()], {
    description: 'Booking opens this many days before the huddle; null: as soon as it is published',
  }),
  bookingClosesHoursBefore: Type.Integer({ minimum: 0, maximum: 8760, description: 'Booking closes this many hours before the huddle' }),
  cancellationCutoffHours: Type.Integer({
    minimum: 0,
    maximum: 8760,
    description:
      'Members cannot cancel a pitch this many hours before the huddle; not more than bookingClosesHoursBefore (unset: the ' +
      "cluster's default, or bookingClosesHoursBefore if that is sooner)",
  }),
  approvalRequired: Type.Boolean({ description: "Whether pitches wait for an organiser's approval" }),
};

const PitchInput = Type.Object(
  Object.fromEntries(Object.entries(PitchFields).map(([key, schema]) => [key, Type.Optional(schema)])) as {
    [K in keyof typeof PitchFields]: ReturnType<typeof Type.Optional<(typeof PitchFields)[K]>>;
  },
  { additionalProperties: false, description: "Pitch settings; unset ones take the cluster's defaults" },
);

const HuddleFields = {
  title: Line({ description: 'Title', maxLength: 200 }),
  description: Paragraphs({ description: 'What the huddle is about (plain text)', maxLength: 10_000 }),
  timezone: TimeZone,
  durationMinutes: Type.Integer({ minimum: 5, maximum: 1440, description: 'Length of the huddle' }),
  venue: Type.Union([Venue, Type.Null()]),
  onlineUrl: Type.Union([HttpUrl, Type.Null()], { description: 'Joining link; private to organisers, attendees and pitchers' }),
  capacity: Type.Union([Type.Integer({ minimum: 1, maximum: 100_000 }), Type.Null()], {
    description: 'Places for attendees; null: unlimited',
  }),
  themes: Type.Array(Theme, { maxItems: 10, uniqueItems: true, description: "Themes from the cluster's vocabulary" }),
  pitch: PitchInput,
};

export const HuddleCreate = Type.Object(
  {
    title: HuddleFields.title,
    description: Type.Optional(HuddleFields.description),
    start: TimeInput,
    timezone: Type.Optional(HuddleFields.timezone),
    durationMinutes: HuddleFields.durationMinutes,
    venue: Type.Optional(HuddleFields.venue),
    onlineUrl: Type.Optional(HuddleFields.onlineUrl),
    capacity: Type.Optional(HuddleFields.capacity),
    themes: Type.Optional(HuddleFields.themes),
    pitch: Type.Optional(HuddleFields.pitch),
    status: Type.Optional(Type.Union([Type.Literal('draft'), Type.Literal('published')], { description: 'draft (default) or published' })),
  },
  { additionalProperties: false, description: 'A new huddle. It needs a venue, an online link, or both.' },
);
export type HuddleCreateBody = Static<typeof HuddleCreate>;

export const HuddlePatch = Type.Object(
  {
    title: Type.Optional(HuddleFields.title),
    description: Type.Optional(HuddleFields.description),
    start: Type.Optional(TimeInput),
    timezone: Type.Optional(HuddleFields.timezone),
    durationMinutes: Type.Optional(HuddleFields.durationMinutes),
    venue: Type.Optional(HuddleFields.venue),
    onlineUrl: Type.Optional(HuddleFields.onlineUrl),
    capacity: Type.Optional(HuddleFields.capacity),
    themes: Type.Optional(HuddleFields.themes),
    pitch: Type.Optional(HuddleFields.pitch),
    status: Type.Optional(Type.Literal('published', { description: 'Publish a draft' })),
  },
  { additionalProperties: false, minProperties: 1, description: 'Fields to change; others stay as they are' },
);
export type HuddlePatchBody = Static<typeof HuddlePatch>;

const Scope = Type.Optional(
  Type.Union([Type.Literal('this'), Type.Literal('following')], {
    description: 'For a huddle in a series: change this occurrence only (default) or this and all following',
    default: 'this',
  }),
);

export const HuddleScope = Type.Object({ scope: Scope }, { additionalProperties: false });

export const HuddlePatchQuery = Type.Object(
  {
    scope: Scope,
    bookings: Type.Optional(
      Type.Union([Type.Literal('refuse'), Type.Literal('move')], {
        description:
          'When the change moves booked pitch slots: refuse it (default, 409 BOOKINGS_AFFECTED) or move them and send each pitcher ' +
          'an updated invitation. Removing a booked slot is always refused.',
        default: 'refuse',
      }),
    ),
  },
  { additionalProperties: false },
);

export const SeriesCreate = Type.Object(
  {
    rrule: Type.String({
      description:
        'RFC 5545 RRULE, WEEKLY or MONTHLY, with COUNT or UNTIL, e.g. FREQ=MONTHLY;BYDAY=1TU;COUNT=12. Parts: FREQ, INTERVAL (1-99), ' +
        'COUNT (1-100) or UNTIL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, WKST. The series ends within 10 years of its start.',
      maxLength: 300,
    }),
    template: Type.Omit(HuddleCreate, ['status'], {
      additionalProperties: false,
      description: "Every occurrence starts as this; start is the first occurrence's start",
    }),
    status: Type.Optional(Type.Union([Type.Literal('draft'), Type.Literal('published')], { description: 'Status of every occurrence' })),
  },
  { additionalProperties: false },
);
export type SeriesCreateBody = Static<typeof SeriesCreate>;

export const CancelBody = Type.Object(
  { reason: Paragraphs({ description: 'Why the huddle is cancelled; sent to everyone affected', maxLength: 1000 }) },
  { additionalProperties: false },
);

export const ZonedTime = Type.Object({
  utc: Type.String({ format: 'date-time', description: 'UTC instant' }),
  local: Type.String({ description: 'Local time with its offset' }),
  timezone: Type.String({ description: 'IANA time zone' }),
});

const CalendarLinks = Type.Object(
  {
    ics: Type.String({ description: 'https address of the .ics file' }),
    webcal: Type.String({ description: 'webcal:// address that calendar apps subscribe to' }),
    google: Type.String({ description: 'Google Calendar "add by URL" address' }),
  },
  { description: 'Where to get this in a calendar app' },
);

const PitchView = Type.Object({
  ...PitchFields,
  bookingOpensAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'When booking opens (null: open once published)',
  }),
  bookingClosesAt: Type.String({ format: 'date-time', description: 'When booking closes' }),
});

const huddleViewFields = {
  id: Id,
  cluster: Slug,
  seriesId: Type.Union([Id, Type.Null()], { description: 'The series it belongs to, if any' }),
  title: Type.String({ description: 'Title' }),
  description: Type.String({ description: 'Description' }),
  start: ZonedTime,
  end: ZonedTime,
  durationMinutes: Type.Integer({ description: 'Length in minutes' }),
  venue: Type.Union([Type.Object({ name: Type.String(), address: Type.Union([Type.String(), Type.Null()]) }), Type.Null()], {
    description: 'Venue',
  }),
  hasOnlineLink: Type.Boolean({ description: 'Whether there is an online joining link (given to attendees and pitchers)' }),
  capacity: Type.Union([Type.Integer(), Type.Null()], { description: 'Places for attendees; null: unlimited' }),
  themes: Type.Array(Type.String(), { description: 'Themes' }),
  status: Type.Union([Type.Literal('draft'), Type.Literal('published'), Type.Literal('cancelled')], { description: 'Status' }),
  cancellation: Type.Union([Type.Object({ reason: Type.String(), at: Type.String({ format: 'date-time' }) }), Type.Null()], {
    description: 'Why and when it was cancelled',
  }),
  sequence: Type.Integer({
    description:
      'Calendar SEQUENCE: grows with every change a calendar shows (time, place, online link, title, description, themes, status)',
  }),
  pitch: PitchView,
  calendar: CalendarLinks,
  updatedAt: Type.String({ format: 'date-time', description: 'Last change (UTC)' }),
};

export const HuddleView = Type.Object(
  {
    ...huddleViewFields,
    onlineUrl: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'Online joining link (organisers only)' })),
    createdAt: Type.Optional(Type.String({ format: 'date-time', description: 'When it was created (organisers only)' })),
    notices: Type.Optional(
      Type.Array(
        Type.Object({
          code: Type.Literal('HUDDLE_IN_PAST', { description: 'What the notice is about' }),
          message: Type.String({ description: 'The notice, for a person' }),
        }),
        {
          description:
            "What the organiser should know about the huddle they just created or changed, such as a start in the past (only in answers to an organiser's change)",
        },
      ),
    ),
  },
  { description: 'A huddle. The public view never has onlineUrl.' },
);

export const HuddleParams = Type.Object({ id: Id });

export const HuddleListQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Huddles starting at or after this instant (default: now)' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Huddles starting before this instant' })),
    theme: Type.Optional(Type.String({ maxLength: 40, description: 'Only huddles with this theme' })),
    status: Type.Optional(
      Type.Union([Type.Literal('draft'), Type.Literal('published'), Type.Literal('cancelled')], {
        description: 'Only this status (organisers)',
      }),
    ),
    cursor: Type.Optional(Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]*$', description: 'nextCursor of the previous page' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50, description: 'Huddles per page' })),
  },
  { additionalProperties: false },
);

export const HuddlePage = Type.Object({
  items: Type.Array(HuddleView),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor for the next page; null on the last page' }),
});

const SeriesAdjustment = Type.Object({
  kind: Type.Union([Type.Literal('moved'), Type.Literal('dropped')], {
    description:
      'moved: the local time does not exist that day (daylight saving starts) and the huddle starts later by the gap; ' +
      'dropped: no huddle for it (the template start is not an occurrence of the rule, or the month has no such day)',
  }),
  requested: Type.String({ description: 'The local date and time asked for, e.g. 2026-03-29T01:30' }),
  startsAt: Type.Union([Type.String(), Type.Null()], {
    description: 'Where the huddle was placed (local time with offset); null when dropped',
  }),
  detail: Type.String({ description: 'What happened, in words' }),
});

export const SeriesView = Type.Object({
  id: Id,
  rrule: Type.String({ description: 'The recurrence rule' }),
  timezone: Type.String({ description: 'Zone the rule is expanded in' }),
  huddles: Type.Array(HuddleView, { description: 'Every occurrence, in order' }),
  adjustments: Type.Array(SeriesAdjustment, {
    description:
      'Every occurrence the rule asked for that was moved (the clocks go forward then) or left out, in date order; empty when none',
  }),
});

export const SeriesPreview = Type.Object({
  timezone: Type.String({ description: 'Zone the rule is expanded in' }),
  occurrences: Type.Array(Type.Object({ start: ZonedTime, end: ZonedTime }), {
    description: 'Every occurrence that would be made, in order',
  }),
  adjustments: Type.Array(SeriesAdjustment, {
    description: 'Every occurrence the rule asked for that would be moved (the clocks go forward then) or left out',
  }),
});
