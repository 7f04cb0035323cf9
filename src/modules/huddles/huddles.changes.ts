// What a saved change to a huddle is, as pure functions: its audit snapshot, whether calendars must
// hear of it, and whether the people concerned are told.
import type { DateTime } from 'luxon';
import type { Huddle } from '../../db/schema.js';
import type { PitchSettings } from './huddles.settings.js';

/** What an edit may do to booked pitch slots: refuse (the default) or move them and tell the pitchers. */
export type BookingsChoice = 'refuse' | 'move';

/** A saved huddle, as hooks.changed announces it. */
export interface HuddleChange {
  /** The huddle before the change; null when it was just created. */
  before: Huddle | null;
  after: Huddle;
  /** What of it a calendar shows changed (SEQUENCE grew when anything did): calendars must be told. */
  changed: ChangedPart[];
  /** The organiser's choice for booked slots this change moves. */
  bookings: BookingsChoice;
}

/**
 * Whether people are told about a change, and how: a published (or once-published) huddle of which
 * anything a calendar shows changed is 'updated' or 'cancelled'. Drafts have told nobody anything.
 */
export function noticeOf(change: HuddleChange): 'updated' | 'cancelled' | null {
  if (!change.before || change.before.status === 'draft' || change.changed.length === 0) return null;
  return change.after.status === 'cancelled' ? 'cancelled' : 'updated';
}

export function pitchOf(huddle: Huddle): PitchSettings {
  const {
    slotCount,
    slotMinutes,
    changeoverMinutes,
    pitchOffsetMinutes,
    bookingOpensDaysBefore,
    bookingClosesHoursBefore,
    cancellationCutoffHours,
    approvalRequired,
  } = huddle;
  return {
    slotCount,
    slotMinutes,
    changeoverMinutes,
    pitchOffsetMinutes,
    bookingOpensDaysBefore,
    bookingClosesHoursBefore,
    cancellationCutoffHours,
    approvalRequired,
  };
}

export function snapshot(h: Huddle): Record<string, unknown> {
  return {
    title: h.title,
    description: h.description,
    startsAt: h.startsAt.toISOString(),
    endsAt: h.endsAt.toISOString(),
    timezone: h.timezone,
    venueName: h.venueName,
    venueAddress: h.venueAddress,
    onlineUrl: h.onlineUrl ? '(set)' : null,
    capacity: h.capacity,
    themes: h.themes,
    status: h.status,
    pitch: pitchOf(h),
  };
}

/** What a calendar entry of a huddle shows, named as the emails name it. */
export type ChangedPart = 'time' | 'place' | 'online link' | 'title' | 'description' | 'themes' | 'status';

/**
 * What changed that calendar apps show (DTSTART/DTEND, LOCATION, SUMMARY, DESCRIPTION with the online
 * link, CATEGORIES, STATUS): any of it makes SEQUENCE grow and an update go to everyone who holds the entry.
 */
export function calendarChanges(before: Huddle, after: Huddle): ChangedPart[] {
  const changed: [ChangedPart, boolean][] = [
    ['time', before.startsAt.getTime() !== after.startsAt.getTime() || before.endsAt.getTime() !== after.endsAt.getTime()],
    ['place', before.venueName !== after.venueName || before.venueAddress !== after.venueAddress],
    ['online link', before.onlineUrl !== after.onlineUrl],
    ['title', before.title !== after.title],
    ['description', before.description !== after.description],
    ['themes', before.themes.join('\n') !== after.themes.join('\n')],
    ['status', before.status !== after.status],
  ];
  return changed.filter(([, yes]) => yes).map(([part]) => part);
}

/** "the time", "the time and the title", "the place, the title and the description". */
export function changedText(parts: ChangedPart[]): string {
  const named = parts.map((part) => `the ${part}`);
  return named.length <= 1 ? (named[0] ?? '') : `${named.slice(0, -1).join(', ')} and ${named.at(-1)}`;
}

/** A local date as a number of milliseconds, for counting whole days between dates. */
export function calendarDay(local: DateTime): number {
  return Date.UTC(local.year, local.month - 1, local.day);
}
