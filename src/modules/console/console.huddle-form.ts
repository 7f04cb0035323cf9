// The huddle form's values (pure): read from a submitted form, filled from a huddle or the cluster's
// defaults, and turned into the same bodies the API takes (a huddle, a series with its RRULE, a change).
// A value that cannot be what its field asks for is reported against that field, before any service call.
import type { FastifyRequest } from 'fastify';
import { DateTime } from 'luxon';
import type { Cluster, Huddle } from '../../db/schema.js';
import { formField, formFields } from '../../lib/page.js';
import { cleanParagraphs } from '../../lib/text.js';
import { messages } from '../../shared/messages.js';
import type { HuddleCreateBody, HuddlePatchBody } from '../huddles/huddles.schemas.js';
import { defaultPitchSettings, type PitchSettings } from '../huddles/huddles.settings.js';

const m = messages.console;

export const REPEATS = ['none', 'weekly', 'monthly-day', 'monthly-weekday'] as const;
export type Repeat = (typeof REPEATS)[number];

/** Every field of the form, as text (what was typed is shown again as it was). */
export interface HuddleFormValues {
  title: string;
  description: string;
  date: string;
  time: string;
  duration: string;
  venueName: string;
  venueAddress: string;
  onlineUrl: string;
  capacity: string;
  themes: string[];
  slotCount: string;
  slotMinutes: string;
  changeoverMinutes: string;
  startOffsetMinutes: string;
  opensDaysBefore: string;
  closesHoursBefore: string;
  cutoffHours: string;
  approvalRequired: boolean;
  repeat: Repeat;
  interval: string;
  count: string;
}

export type FieldErrors = Partial<Record<keyof HuddleFormValues, string>>;

const TEXT_FIELDS = [
  'title',
  'date',
  'time',
  'duration',
  'venueName',
  'onlineUrl',
  'capacity',
  'slotCount',
  'slotMinutes',
  'changeoverMinutes',
  'startOffsetMinutes',
  'opensDaysBefore',
  'closesHoursBefore',
  'cutoffHours',
  'interval',
  'count',
] as const;

function pitchValues(settings: PitchSettings) {
  return {
    slotCount: String(settings.slotCount),
    slotMinutes: String(settings.slotMinutes),
    changeoverMinutes: String(settings.changeoverMinutes),
    startOffsetMinutes: String(settings.pitchOffsetMinutes),
    opensDaysBefore: settings.bookingOpensDaysBefore === null ? '' : String(settings.bookingOpensDaysBefore),
    closesHoursBefore: String(settings.bookingClosesHoursBefore),
    cutoffHours: String(settings.cancellationCutoffHours),
    approvalRequired: settings.approvalRequired,
  };
}

/** A new huddle's form: next week at 09:30 local, 90 minutes, the cluster's pitch defaults. */
export function newHuddleValues(cluster: Cluster, now: Date): HuddleFormValues {
  const day = DateTime.fromJSDate(now, { zone: cluster.timezone }).plus({ weeks: 1 });
  return {
    title: '',
    description: '',
    date: day.toFormat('yyyy-MM-dd'),
    time: '09:30',
    duration: '90',
    venueName: '',
    venueAddress: '',
    onlineUrl: '',
    capacity: '',
    themes: [],
    ...pitchValues({ ...defaultPitchSettings(cluster.bookingPolicy), slotCount: 6 }),
    repeat: 'none',
    interval: '1',
    count: '6',
  };
}

/** A saved huddle's form, in its own zone. */
export function huddleValues(huddle: Huddle): HuddleFormValues {
  const start = DateTime.fromJSDate(huddle.startsAt, { zone: huddle.timezone });
  return {
    title: huddle.title,
    description: huddle.description,
    date: start.toFormat('yyyy-MM-dd'),
    time: start.toFormat('HH:mm'),
    duration: String(Math.round((huddle.endsAt.getTime() - huddle.startsAt.getTime()) / 60_000)),
    venueName: huddle.venueName ?? '',
    venueAddress: huddle.venueAddress ?? '',
    onlineUrl: huddle.onlineUrl ?? '',
    capacity: huddle.capacity === null ? '' : String(huddle.capacity),
    themes: huddle.themes,
    ...pitchValues(huddle),
    repeat: 'none',
    interval: '1',
    count: '1',
  };
}

/** The form as submitted (each text trimmed and cut to a sane length). */
export function submittedValues(request: FastifyRequest): HuddleFormValues {
  // Cut well past each field's own limit, so that the schema check refuses a value too long instead of a cut one being saved.
  const text = Object.fromEntries(TEXT_FIELDS.map((name) => [name, (formField(request, name) ?? '').trim().slice(0, 4096)])) as Record<
    (typeof TEXT_FIELDS)[number],
    string
  >;
  const repeat = formField(request, 'repeat') ?? 'none';
  return {
    ...text,
    description: cleanParagraphs(formField(request, 'description') ?? '', 10_000),
    venueAddress: cleanParagraphs(formField(request, 'venueAddress') ?? '', 500),
    themes: formFields(request, 'themes').slice(0, 10),
    approvalRequired: formField(request, 'approvalRequired') === 'yes',
    repeat: (REPEATS as readonly string[]).includes(repeat) ? (repeat as Repeat) : 'none',
  };
}

/** A whole number in [min, max] from a field, or an error against it. */
function wholeNumber(values: HuddleFormValues, errors: FieldErrors, field: keyof HuddleFormValues, min: number, max: number): number {
  const text = values[field] as string;
  if (/^\d{1,6}$/.test(text) && Number(text) >= min && Number(text) <= max) return Number(text);
  errors[field] = m.form.wholeNumber(min, max);
  return min;
}

/** The fields a huddle and a change have in common, checked; errors are filled in rather than thrown. */
function commonBody(values: HuddleFormValues, errors: FieldErrors) {
  if (!values.title) errors.title = m.fieldMissing;
  if (!/^\d{4}-\d\d-\d\d$/.test(values.date)) errors.date = m.form.badDate;
  if (!/^\d\d:\d\d$/.test(values.time)) errors.time = m.form.badTime;
  const durationMinutes = wholeNumber(values, errors, 'duration', 5, 1440);
  const capacity = values.capacity === '' ? null : wholeNumber(values, errors, 'capacity', 1, 100_000);
  const opens = values.opensDaysBefore === '' ? null : wholeNumber(values, errors, 'opensDaysBefore', 0, 365);
  const pitch = {
    slotCount: wholeNumber(values, errors, 'slotCount', 0, 50),
    slotMinutes: wholeNumber(values, errors, 'slotMinutes', 1, 60),
    changeoverMinutes: wholeNumber(values, errors, 'changeoverMinutes', 0, 30),
    startOffsetMinutes: wholeNumber(values, errors, 'startOffsetMinutes', 0, 1440),
    bookingOpensDaysBefore: opens,
    bookingClosesHoursBefore: wholeNumber(values, errors, 'closesHoursBefore', 0, 8760),
    cancellationCutoffHours: wholeNumber(values, errors, 'cutoffHours', 0, 8760),
    approvalRequired: values.approvalRequired,
  };
  return {
    title: values.title,
    description: values.description,
    start: `${values.date}T${values.time}`,
    durationMinutes,
    venue: values.venueName ? { name: values.venueName, address: values.venueAddress || null } : null,
    onlineUrl: values.onlineUrl || null,
    capacity,
    themes: values.themes,
    pitch,
  };
}

/** A new huddle's body (status aside), or the field errors. */
export function createBody(values: HuddleFormValues): { body: Omit<HuddleCreateBody, 'status'>; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const body = commonBody(values, errors);
  return { body, errors };
}

/**
 * A change's body: only the fields the organiser changed from `before` (the huddle's form as it was
 * shown), so an edit of this huddle and the following ones carries just that change, a field left alone
 * is never rewritten (a start on a clock change's ambiguous hour keeps its instant), and nobody is told of
 * a change nobody made.
 */
export function patchBody(values: HuddleFormValues, before: HuddleFormValues): { body: HuddlePatchBody; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const all = commonBody(values, errors);
  const differs = (...fields: (keyof HuddleFormValues)[]) =>
    fields.some((field) => JSON.stringify(values[field]) !== JSON.stringify(before[field]));
  const body: HuddlePatchBody = {};
  if (differs('title')) body.title = all.title;
  if (differs('description')) body.description = all.description;
  if (differs('date', 'time')) body.start = all.start;
  if (differs('duration')) body.durationMinutes = all.durationMinutes;
  if (differs('venueName', 'venueAddress')) body.venue = all.venue;
  if (differs('onlineUrl')) body.onlineUrl = all.onlineUrl;
  if (differs('capacity')) body.capacity = all.capacity;
  if ([...values.themes].sort().join('\n') !== [...before.themes].sort().join('\n')) body.themes = all.themes;
  const pitchFields: [keyof HuddleFormValues, keyof typeof all.pitch][] = [
    ['slotCount', 'slotCount'],
    ['slotMinutes', 'slotMinutes'],
    ['changeoverMinutes', 'changeoverMinutes'],
    ['startOffsetMinutes', 'startOffsetMinutes'],
    ['opensDaysBefore', 'bookingOpensDaysBefore'],
    ['closesHoursBefore', 'bookingClosesHoursBefore'],
    ['cutoffHours', 'cancellationCutoffHours'],
    ['approvalRequired', 'approvalRequired'],
  ];
  const pitch = Object.fromEntries(pitchFields.filter(([field]) => differs(field)).map(([, key]) => [key, all.pitch[key]]));
  if (Object.keys(pitch).length > 0) body.pitch = pitch;
  return { body, errors };
}

/**
 * The RRULE of a repeating huddle, or null for a one-off: weekly every n weeks, monthly on the same day
 * of the month or on the same weekday of the month (its second Tuesday; the last one if it is the fifth).
 */
export function ruleOf(values: HuddleFormValues, errors: FieldErrors): string | null {
  if (values.repeat === 'none') return null;
  const interval = wholeNumber(values, errors, 'interval', 1, 99);
  const count = wholeNumber(values, errors, 'count', 2, 100);
  const day = DateTime.fromISO(values.date);
  if (!day.isValid) return null;
  if (values.repeat === 'weekly') return `FREQ=WEEKLY;INTERVAL=${interval};COUNT=${count}`;
  if (values.repeat === 'monthly-day') return `FREQ=MONTHLY;INTERVAL=${interval};BYMONTHDAY=${day.day};COUNT=${count}`;
  return `FREQ=MONTHLY;INTERVAL=${interval};BYDAY=${nthWeekday(day)};COUNT=${count}`;
}

const WEEKDAY_CODES = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];

/** "2TU" for the second Tuesday of its month, "-1FR" for a fifth (so: last) Friday. */
function nthWeekday(day: DateTime): string {
  const nth = Math.ceil(day.day / 7);
  return `${nth === 5 ? -1 : nth}${WEEKDAY_CODES[day.weekday - 1]}`;
}

/** "on the second Tuesday of the month": the monthly-weekday choice in words, for the date chosen. */
export function weekdayInWords(date: string): string | null {
  const day = DateTime.fromISO(date, { locale: 'en-GB' });
  if (!day.isValid) return null;
  const nth = Math.ceil(day.day / 7);
  return m.form.nthWeekday(nth === 5 ? 'last' : (['first', 'second', 'third', 'fourth'][nth - 1] ?? 'last'), day.toFormat('cccc'));
}

/** Which form field a service's refusal is about ("body/pitch/cancellationCutoffHours" is cutoffHours). */
export function fieldOfPath(path: string | undefined): keyof HuddleFormValues | null {
  if (!path) return null;
  const parts = path.split('/').filter(Boolean);
  // "themes/0" is about the themes, "venue/name" about the venue.
  const last = (/^\d+$/.test(parts.at(-1) ?? '') ? parts.at(-2) : parts.includes('venue') ? 'venue' : parts.at(-1)) ?? '';
  const fields: Record<string, keyof HuddleFormValues> = {
    title: 'title',
    start: 'date',
    timezone: 'date',
    durationMinutes: 'duration',
    venue: 'venueName',
    onlineUrl: 'onlineUrl',
    capacity: 'capacity',
    pitch: 'slotCount',
    slotCount: 'slotCount',
    slotMinutes: 'slotMinutes',
    changeoverMinutes: 'changeoverMinutes',
    startOffsetMinutes: 'startOffsetMinutes',
    bookingOpensDaysBefore: 'opensDaysBefore',
    bookingClosesHoursBefore: 'closesHoursBefore',
    cancellationCutoffHours: 'cutoffHours',
    rrule: 'repeat',
  };
  return fields[last] ?? null;
}

/** The fields whose refusal is shown beside them; any other refusal is said above the form. */
export const FIELDS_WITH_ERRORS: readonly (keyof HuddleFormValues)[] = [...TEXT_FIELDS, 'repeat'];
