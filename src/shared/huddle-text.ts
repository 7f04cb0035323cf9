// How emails and pages say when and where a huddle or a pitch slot is, in the huddle's own zone (pure).
import { DateTime } from 'luxon';
import type { Huddle, Slot } from '../db/schema.js';

/** "Tuesday 1 December 2026, 09:30–11:30 (Europe/London, GMT)" */
export function whenText(huddle: Pick<Huddle, 'startsAt' | 'endsAt' | 'timezone'>): string {
  const start = DateTime.fromJSDate(huddle.startsAt, { zone: huddle.timezone }).setLocale('en-GB');
  const end = DateTime.fromJSDate(huddle.endsAt, { zone: huddle.timezone }).setLocale('en-GB');
  const sameDay = start.hasSame(end, 'day');
  const endText = sameDay ? end.toFormat('HH:mm') : end.toFormat('cccc d LLLL yyyy, HH:mm');
  return `${start.toFormat('cccc d LLLL yyyy, HH:mm')}–${endText} (${huddle.timezone}, ${start.offsetNameShort ?? start.toFormat('ZZ')})`;
}

/** "09:40–09:45 (Europe/London, GMT) on Tuesday 1 December 2026" */
export function slotText(slot: Pick<Slot, 'startsAt' | 'endsAt'>, zone: string): string {
  const start = DateTime.fromJSDate(slot.startsAt, { zone }).setLocale('en-GB');
  const end = DateTime.fromJSDate(slot.endsAt, { zone }).setLocale('en-GB');
  return (
    `${start.toFormat('HH:mm')}–${end.toFormat('HH:mm')} (${zone}, ${start.offsetNameShort ?? start.toFormat('ZZ')}) on ` +
    `${start.toFormat('cccc d LLLL yyyy')}`
  );
}

/** The venue and its address on one line ("Bright Building, Manchester Science Park, M15 6GZ"), or null online only. */
export function placeText(huddle: Pick<Huddle, 'venueName' | 'venueAddress'>): string | null {
  if (!huddle.venueName) return null;
  return huddle.venueAddress ? `${huddle.venueName}, ${huddle.venueAddress.replace(/\s*\r?\n\s*/g, ', ')}` : huddle.venueName;
}

/** "Where: venue, address" and "Online: link" lines, for the emails that go to people attending. */
export function whereText(huddle: Pick<Huddle, 'venueName' | 'venueAddress' | 'onlineUrl'>): string[] {
  const lines: string[] = [];
  const place = placeText(huddle);
  if (place) lines.push(`Where: ${place}`);
  if (huddle.onlineUrl) lines.push(`Online: ${huddle.onlineUrl}`);
  return lines;
}
