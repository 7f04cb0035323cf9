// Pure checks and defaults for a huddle's fields: times, place, themes and pitch settings.
import { DateTime } from 'luxon';
import type { BookingPolicy } from '../../db/schema.js';
import { problem, type FieldError } from '../../errors.js';
import { DEFAULT_BOOKING_CLOSES_HOURS } from '../clusters/clusters.service.js';
import { pitchBlockEnd } from './huddles.slots.js';
import { resolveTime } from './huddles.time.js';

export interface PitchSettings {
  slotCount: number;
  slotMinutes: number;
  changeoverMinutes: number;
  pitchOffsetMinutes: number;
  bookingOpensDaysBefore: number | null;
  bookingClosesHoursBefore: number;
  cancellationCutoffHours: number;
  approvalRequired: boolean;
}

export interface PitchInput {
  slotCount?: number;
  slotMinutes?: number;
  changeoverMinutes?: number;
  startOffsetMinutes?: number;
  bookingOpensDaysBefore?: number | null;
  bookingClosesHoursBefore?: number;
  cancellationCutoffHours?: number;
  approvalRequired?: boolean;
}

const MINUTE = 60_000;

function invalid(field: string, message: string) {
  const error: FieldError = { field: `body/${field}`, message };
  return problem('VALIDATION_FAILED', `${field} ${message}`, { errors: [error] });
}

/**
 * How far from now a huddle may start. A huddle may be recorded after it happened (the answer says it
 * is in the past), but not a year later; and nobody plans one a decade ahead. Outside this window a
 * start is a typo (year 0001, 9999, a wrong century), refused with TIME_OUT_OF_RANGE.
 */
export const START_WINDOW = { pastDays: 366, futureYears: 10 };

/** Refuses a start outside START_WINDOW around `now`. */
export function checkStartWindow(startsAt: Date, now: Date, field = 'start'): void {
  const earliest = DateTime.fromJSDate(now).minus({ days: START_WINDOW.pastDays });
  const latest = DateTime.fromJSDate(now).plus({ years: START_WINDOW.futureYears });
  const at = startsAt.toISOString();
  if (startsAt.getTime() < earliest.toMillis()) {
    throw problem('TIME_OUT_OF_RANGE', `${field} ${at} is more than ${START_WINDOW.pastDays} days ago: check the year.`, {
      errors: [{ field: `body/${field}`, message: `must be after ${earliest.toUTC().toISO()}` }],
    });
  }
  if (startsAt.getTime() > latest.toMillis()) {
    throw problem('TIME_OUT_OF_RANGE', `${field} ${at} is more than ${START_WINDOW.futureYears} years ahead: check the year.`, {
      errors: [{ field: `body/${field}`, message: `must be before ${latest.toUTC().toISO()}` }],
    });
  }
}

/** Start and end instants from a request time, a zone and a duration; the start must be in START_WINDOW around `now`. */
export function timesFrom(
  start: string,
  zone: string,
  durationMinutes: number,
  now: Date,
): { startsAt: Date; endsAt: Date; start: DateTime } {
  const resolved = resolveTime(start, zone);
  const startsAt = resolved.toJSDate();
  checkStartWindow(startsAt, now);
  return { startsAt, endsAt: new Date(startsAt.getTime() + durationMinutes * MINUTE), start: resolved };
}

/** Themes must come from the cluster's vocabulary. */
export function checkThemes(themes: string[], vocabulary: string[]): string[] {
  const unknown = themes.filter((theme) => !vocabulary.includes(theme));
  if (unknown.length > 0) throw invalid('themes', `${unknown.join(', ')} not in the cluster's themes (${vocabulary.join(', ')})`);
  return themes;
}

export function checkPlace(venue: { name: string } | null, onlineUrl: string | null): void {
  if (!venue && !onlineUrl) throw invalid('venue', 'or onlineUrl is needed: a huddle happens somewhere');
}

/**
 * Merges given pitch settings over the current ones (or, for a new huddle, the cluster's defaults) and
 * checks they fit the huddle. A cutoff taken from the cluster's defaults never falls before booking
 * closes; one given (or a booking close given) that would is refused.
 */
export function pitchSettings(
  input: PitchInput | undefined,
  base: PitchSettings,
  durationMinutes: number,
  options: { fromDefaults?: boolean } = {},
): PitchSettings {
  const closes = input?.bookingClosesHoursBefore ?? base.bookingClosesHoursBefore;
  const settings: PitchSettings = {
    slotCount: input?.slotCount ?? base.slotCount,
    slotMinutes: input?.slotMinutes ?? base.slotMinutes,
    changeoverMinutes: input?.changeoverMinutes ?? base.changeoverMinutes,
    pitchOffsetMinutes: input?.startOffsetMinutes ?? base.pitchOffsetMinutes,
    bookingOpensDaysBefore: input?.bookingOpensDaysBefore !== undefined ? input.bookingOpensDaysBefore : base.bookingOpensDaysBefore,
    bookingClosesHoursBefore: input?.bookingClosesHoursBefore ?? base.bookingClosesHoursBefore,
    cancellationCutoffHours:
      input?.cancellationCutoffHours ??
      (options.fromDefaults ? Math.min(base.cancellationCutoffHours, closes) : base.cancellationCutoffHours),
    approvalRequired: input?.approvalRequired ?? base.approvalRequired,
  };
  const end = pitchBlockEnd({
    slotCount: settings.slotCount,
    slotMinutes: settings.slotMinutes,
    changeoverMinutes: settings.changeoverMinutes,
    startOffsetMinutes: settings.pitchOffsetMinutes,
  });
  if (end > durationMinutes) {
    throw invalid('pitch', `slots end ${end} minutes after the start, after the huddle ends (${durationMinutes} minutes)`);
  }
  if (settings.bookingOpensDaysBefore !== null && settings.bookingOpensDaysBefore * 24 <= settings.bookingClosesHoursBefore) {
    throw invalid('pitch/bookingOpensDaysBefore', 'must open booking before it closes');
  }
  const touched = input?.bookingClosesHoursBefore !== undefined || input?.cancellationCutoffHours !== undefined;
  if ((touched || options.fromDefaults) && settings.cancellationCutoffHours > settings.bookingClosesHoursBefore) {
    throw invalid(
      'pitch/cancellationCutoffHours',
      `(${settings.cancellationCutoffHours}) must not be more than bookingClosesHoursBefore (${settings.bookingClosesHoursBefore}): ` +
        'a pitch booked in between could never be cancelled by its member',
    );
  }
  return settings;
}

/** Pitch settings of a new huddle before any are given: no pitches, and the cluster's booking policy. */
export function defaultPitchSettings(policy: BookingPolicy): PitchSettings {
  return {
    slotCount: 0,
    slotMinutes: 5,
    changeoverMinutes: 1,
    pitchOffsetMinutes: 0,
    bookingOpensDaysBefore: null,
    bookingClosesHoursBefore: DEFAULT_BOOKING_CLOSES_HOURS,
    cancellationCutoffHours: policy.cancellationCutoffHours,
    approvalRequired: policy.approvalRequired,
  };
}

/** When booking opens (null: once published) and closes, as instants. */
export function bookingWindow(startsAt: Date, settings: Pick<PitchSettings, 'bookingOpensDaysBefore' | 'bookingClosesHoursBefore'>) {
  return {
    opensAt: settings.bookingOpensDaysBefore === null ? null : new Date(startsAt.getTime() - settings.bookingOpensDaysBefore * 86_400_000),
    closesAt: new Date(startsAt.getTime() - settings.bookingClosesHoursBefore * 3_600_000),
  };
}
