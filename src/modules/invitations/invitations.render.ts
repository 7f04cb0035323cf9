// The emails that carry a huddle into people's calendars: invitation, update and cancellation (pure).
import { DateTime } from 'luxon';
import { renderEmail, type RenderedEmail } from '../../lib/email-layout.js';
import type { Huddle } from '../huddles/huddles.view.js';

export type InvitationKind = 'invitation' | 'update' | 'cancellation';

// An invitation or booking email goes to many people about the same huddle: the line is worked out once per
// start, end and zone (luxon's zone formatting was about half of a booking email's rendering time).
const whenTexts = new Map<string, string>();
const MAX_WHEN_TEXTS = 1000;

/** "Tuesday 1 December 2026, 09:30–11:30 (Europe/London, GMT)" */
export function whenText(huddle: Huddle): string {
  const key = `${huddle.startsAt.getTime()}|${huddle.endsAt.getTime()}|${huddle.timezone}`;
  let text = whenTexts.get(key);
  if (text === undefined) {
    if (whenTexts.size >= MAX_WHEN_TEXTS) whenTexts.clear();
    text = formatWhen(huddle);
    whenTexts.set(key, text);
  }
  return text;
}

function formatWhen(huddle: Huddle): string {
  const start = DateTime.fromJSDate(huddle.startsAt, { zone: huddle.timezone }).setLocale('en-GB');
  const end = DateTime.fromJSDate(huddle.endsAt, { zone: huddle.timezone }).setLocale('en-GB');
  const sameDay = start.hasSame(end, 'day');
  const endText = sameDay ? end.toFormat('HH:mm') : end.toFormat('cccc d LLLL yyyy, HH:mm');
  return `${start.toFormat('cccc d LLLL yyyy, HH:mm')}–${endText} (${huddle.timezone}, ${start.offsetNameShort ?? start.toFormat('ZZ')})`;
}

/** "Where: venue, address" and "Online: link" lines, for the emails that go to people attending. */
export function whereText(huddle: Huddle): string[] {
  const lines: string[] = [];
  if (huddle.venueName) lines.push(`Where: ${huddle.venueName}${huddle.venueAddress ? `, ${huddle.venueAddress.replace(/\s*\n\s*/g, ', ')}` : ''}`);
  if (huddle.onlineUrl) lines.push(`Online: ${huddle.onlineUrl}`);
  return lines;
}

export function invitationEmail(kind: InvitationKind, huddle: Huddle, clusterName: string, calendarUrl: string): RenderedEmail {
  const subject = {
    invitation: `Invitation: ${huddle.title}`,
    update: `Updated: ${huddle.title}`,
    cancellation: `Cancelled: ${huddle.title}`,
  }[kind];
  const opening = {
    invitation: `${clusterName} invites you to a huddle.`,
    update: `The time or place of this ${clusterName} huddle has changed. Your calendar entry is updated by the attachment.`,
    cancellation: `This ${clusterName} huddle is cancelled${huddle.cancelReason ? `: ${huddle.cancelReason}` : '.'} The attachment removes it from your calendar.`,
  }[kind];
  const details = [`${huddle.title}`, `When: ${whenText(huddle)}`, ...whereText(huddle)].join('\n');
  return renderEmail({
    subject,
    paragraphs: [opening, details, ...(kind !== 'cancellation' && huddle.description ? [huddle.description] : [])],
    ...(kind !== 'cancellation' ? { action: { label: 'Add to your calendar', url: calendarUrl } } : {}),
    footer: [`You are receiving this because ${clusterName} invited you to this huddle.`],
  });
}
