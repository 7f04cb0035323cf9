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
  /** Its time, place or status changed: calendars must be told (SEQUENCE grew). */
  scheduleChanged: boolean;
  /** The organiser's choice for booked slots this change moves. */
  bookings: BookingsChoice;
}

/**
 * Whether people are told about a change, and how: a published (or once-published) huddle whose
 * time, place or status changed is 'updated' or 'cancelled'. Drafts have told nobody anything.
 */
export function noticeOf(change: HuddleChange): 'updated' | 'cancelled' | null {
  if (!change.before || change.before.status === 'draft' || !change.scheduleChanged) return null;
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

/** A change of time, place or status is one calendar apps must see: SEQUENCE grows. */
export function isScheduleChange(before: Huddle, after: Huddle): boolean {
  return (
    before.startsAt.getTime() !== after.startsAt.getTime() ||
    before.endsAt.getTime() !== after.endsAt.getTime() ||
    before.venueName !== after.venueName ||
    before.venueAddress !== after.venueAddress ||
    before.onlineUrl !== after.onlineUrl ||
    before.status !== after.status
  );
}

/** A local date as a number of milliseconds, for counting whole days between dates. */
export function calendarDay(local: DateTime): number {
  return Date.UTC(local.year, local.month - 1, local.day);
}
