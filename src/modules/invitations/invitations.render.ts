// The emails that carry a huddle into people's calendars: invitation, update and cancellation (pure).
import type { Huddle } from '../../db/schema.js';
import { renderEmail, type RenderedEmail } from '../../lib/email-layout.js';
import { whenText, whereText } from '../../shared/huddle-text.js';

export type InvitationKind = 'invitation' | 'update' | 'cancellation';

export function invitationEmail(kind: InvitationKind, huddle: Huddle, clusterName: string, calendarUrl: string): RenderedEmail {
  const subject = {
    invitation: `Invitation: ${huddle.title}`,
    update: `Updated: ${huddle.title}`,
    cancellation: `Cancelled: ${huddle.title}`,
  }[kind];
  const opening = {
    invitation: `${clusterName} invites you to a huddle.`,
    update: `The time or place of this ${clusterName} huddle has changed. Your calendar entry is updated by the attachment.`,
    cancellation:
      `This ${clusterName} huddle is cancelled${huddle.cancelReason ? `: ${huddle.cancelReason}` : '.'} The attachment ` +
      `removes it from your calendar.`,
  }[kind];
  const details = [`${huddle.title}`, `When: ${whenText(huddle)}`, ...whereText(huddle)].join('\n');
  return renderEmail({
    subject,
    paragraphs: [opening, details, ...(kind !== 'cancellation' && huddle.description ? [huddle.description] : [])],
    ...(kind !== 'cancellation' ? { action: { label: 'Add to your calendar', url: calendarUrl } } : {}),
    footer: [`You are receiving this because ${clusterName} invited you to this huddle.`],
  });
}
