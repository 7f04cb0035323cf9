// The emails that carry a huddle into people's calendars: invitation, update and cancellation (pure).
import { DateTime } from 'luxon';
import { renderEmail, type RenderedEmail } from '../../lib/email-layout.js';
import type { Huddle } from '../huddles/huddles.view.js';

export type InvitationKind = 'invitation' | 'update' | 'cancellation';

/** "Tuesday 1 December 2026, 09:30–11:30 (Europe/London, GMT)" */
export function whenText(huddle: Huddle): string {
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
