// How emails and pages say when and where a huddle or a pitch slot is, in the huddle's own zone (pure).
// One Intl formatter per zone, made once: luxon's toFormat made several per call and cost about 0.3 ms
// a sentence, for every booking's email (issue 16). test/huddle-text.test.ts holds the wording to luxon's.
import type { Huddle, Slot } from '../db/schema.js';

interface LocalParts {
  /** "Tuesday 1 December 2026" */
  date: string;
  /** "09:30" */
  time: string;
  /** The zone's short name at that moment, as en-GB says it: "GMT", "BST", "CEST", "GMT-4" */
  zoneName: string;
  /** Day number since the epoch in the zone (for "the same day") */
  day: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      weekday: 'long',
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

function local(at: Date, zone: string): LocalParts {
  const p: Record<string, string> = {};
  for (const part of formatterFor(zone).formatToParts(at)) if (part.type !== 'literal') p[part.type] = part.value;
  return {
    date: `${p.weekday} ${p.day} ${p.month} ${p.year}`,
    time: `${p.hour}:${p.minute}`,
    zoneName: p.timeZoneName ?? zone,
    day: `${p.year} ${p.month} ${p.day}`,
  };
}

/** "Tuesday 1 December 2026, 09:30–11:30 (Europe/London, GMT)" */
export function whenText(huddle: Pick<Huddle, 'startsAt' | 'endsAt' | 'timezone'>): string {
  const start = local(huddle.startsAt, huddle.timezone);
  const end = local(huddle.endsAt, huddle.timezone);
  const endText = start.day === end.day ? end.time : `${end.date}, ${end.time}`;
  return `${start.date}, ${start.time}–${endText} (${huddle.timezone}, ${start.zoneName})`;
}

/** "09:40–09:45 (Europe/London, GMT) on Tuesday 1 December 2026" */
export function slotText(slot: Pick<Slot, 'startsAt' | 'endsAt'>, zone: string): string {
  const start = local(slot.startsAt, zone);
  const end = local(slot.endsAt, zone);
  return `${start.time}–${end.time} (${zone}, ${start.zoneName}) on ${start.date}`;
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
