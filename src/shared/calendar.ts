// iCalendar text for huddles: one event at a time (so feeds can cache per event) and whole calendars,
// for the feeds and for every email that carries a calendar part (pure). Times are written in UTC,
// which every calendar app reads the same way.
import ical, { ICalCalendarMethod, ICalEventStatus } from 'ical-generator';
import type { Cluster, Huddle } from '../db/schema.js';
import { boundedCache } from '../lib/cache.js';
import { foldLines } from '../lib/ical-fold.js';
import { personLine, textValue, type CalendarPerson } from '../lib/ical-text.js';
import { placeText } from './huddle-text.js';
import type { Site } from './site.js';
import { huddlePageUrl } from './calendar-links.js';

export type CalendarMethod = 'PUBLISH' | 'REQUEST' | 'CANCEL';

export interface EventContext {
  /** Host part of every UID, e.g. convene.example.org. */
  host: string;
  baseUrl: string;
  organizer: { name: string; email: string };
}

export interface EventOptions {
  /** 'private' adds the online link (member feeds, invitations); 'public' never does. */
  audience: 'public' | 'private';
  /** DTSTAMP: when this representation was made. Feeds pass the last change, so the text is stable. */
  stamp: Date;
  attendee?: { email: string; name?: string | null };
  /** Set on a CANCEL message, where the event itself has not been cancelled (an invitee was removed). */
  forceCancelled?: boolean;
}

export function huddleUid(id: string, host: string): string {
  return `huddle-${id}@${host}`;
}

/**
 * The organiser named in a cluster's calendar data: its own sender (the From of its calendar emails,
 * which calendar apps match the ORGANIZER against), else its public contact, else the instance's From.
 */
export function eventContext(cluster: Pick<Cluster, 'name' | 'contactEmail' | 'senderName' | 'senderAddress'>, site: Site): EventContext {
  const organizer = cluster.senderAddress
    ? { name: cluster.senderName ?? cluster.name, email: cluster.senderAddress }
    : { name: cluster.name, email: cluster.contactEmail ?? site.fromAddress };
  return { host: site.host, baseUrl: site.baseUrl, organizer };
}

function description(huddle: Huddle, context: EventContext, audience: 'public' | 'private'): string {
  const parts = [huddle.description.trim()];
  if (huddle.status === 'cancelled' && huddle.cancelReason) parts.unshift(`Cancelled: ${huddle.cancelReason}`);
  if (audience === 'private' && huddle.onlineUrl) parts.push(`Join online: ${huddle.onlineUrl}`);
  parts.push(`Details: ${huddlePageUrl(context.baseUrl, huddle.id)}`);
  return parts.filter((part) => part.length > 0).join('\n\n');
}

/** One folded VEVENT block (CRLF line ends), ready to be placed in a VCALENDAR. */
export function renderEvent(huddle: Huddle, context: EventContext, options: EventOptions): string {
  const calendar = ical();
  const cancelled = huddle.status === 'cancelled' || options.forceCancelled === true;
  const event = calendar.createEvent({
    id: huddleUid(huddle.id, context.host),
    sequence: huddle.sequence,
    start: huddle.startsAt,
    end: huddle.endsAt,
    stamp: options.stamp,
    lastModified: huddle.updatedAt,
    created: huddle.createdAt,
    summary: cancelled ? `Cancelled: ${huddle.title}` : huddle.title,
    description: description(huddle, context, options.audience),
    location: placeText(huddle),
    url: huddlePageUrl(context.baseUrl, huddle.id),
    status: cancelled ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
    categories: huddle.themes.map((name) => ({ name })),
  });
  return finishEvent(event.toString(), context, options.attendee && { ...options.attendee, status: 'NEEDS-ACTION' });
}

/**
 * A VEVENT from ical-generator with its ORGANIZER (and ATTENDEE) added, folded, CRLF-ended. The people are
 * written here because ical-generator escapes a CN with backslashes, which no reader undoes (lib/ical-text.ts).
 */
export function finishEvent(
  eventText: string,
  context: EventContext,
  attendee?: CalendarPerson & { status: 'NEEDS-ACTION' | 'ACCEPTED' },
): string {
  const people = [personLine('ORGANIZER', context.organizer)];
  if (attendee) people.push(personLine('ATTENDEE', attendee, ['ROLE=REQ-PARTICIPANT', `PARTSTAT=${attendee.status}`, 'RSVP=FALSE']));
  const end = eventText.lastIndexOf('END:VEVENT');
  const text = eventText.slice(0, end) + people.map((line) => line + '\r\n').join('') + 'END:VEVENT\r\n';
  return foldLines(text);
}

export interface CalendarOptions {
  name: string;
  description?: string;
  /** REFRESH-INTERVAL and X-PUBLISHED-TTL, in seconds (feeds only). */
  ttlSeconds?: number;
  method?: CalendarMethod;
}

const PRODUCT_ID = { company: 'Convene', product: 'Convene huddles', language: 'EN' };

// A frame depends on its options alone (no timestamps in it), and ical-generator folds its text a character
// at a time through a TextEncoder (about 0.1 ms a frame): each is made once (every booking email has one).
const frames = boundedCache<string, { header: string; footer: string }>(1_000);

/** The VCALENDAR's lines before and after its events. */
export function calendarFrame(options: CalendarOptions): { header: string; footer: string } {
  const key = JSON.stringify([options.name, options.description, options.ttlSeconds, options.method]);
  let frame = frames.get(key);
  if (frame === undefined) {
    frame = makeFrame(options);
    frames.set(key, frame);
  }
  return frame;
}

function makeFrame(options: CalendarOptions): { header: string; footer: string } {
  const calendar = ical({
    prodId: PRODUCT_ID,
    // ical-generator writes NAME, X-WR-CALNAME and X-WR-CALDESC as given: escaped here.
    name: textValue(options.name),
    ...(options.description ? { description: textValue(options.description) } : {}),
    ...(options.ttlSeconds ? { ttl: options.ttlSeconds } : {}),
    ...(options.method ? { method: ICalCalendarMethod[options.method] } : {}),
  });
  const empty = calendar.toString();
  const footer = 'END:VCALENDAR';
  return { header: empty.slice(0, empty.lastIndexOf(footer)), footer: footer + '\r\n' };
}

/** The VCALENDAR around already-rendered events: header and footer once, events as given. */
export function renderCalendar(options: CalendarOptions, events: string[]): string {
  const { header, footer } = calendarFrame(options);
  return header + events.join('') + footer;
}
