// The emails that carry a huddle into people's calendars: invitation, update and cancellation (pure).
import type { Huddle } from '../../db/schema.js';
import { reasonEnding, renderEmail, type RenderedEmail } from '../../lib/email-layout.js';
import { whenText, whereText } from '../../shared/huddle-text.js';

export type InvitationKind = 'invitation' | 'update' | 'cancellation';

/** `changed` (for an update) says what changed, e.g. "the time and the title". */
export function invitationEmail(
  kind: InvitationKind,
  huddle: Huddle,
  clusterName: string,
  pageUrl: string,
  changed = 'the details',
): RenderedEmail {
  const subject = {
    invitation: `Invitation: ${huddle.title}`,
    update: `Updated: ${huddle.title}`,
    cancellation: `Cancelled: ${huddle.title}`,
  }[kind];
  const opening = {
    invitation: `${clusterName} invites you to a huddle.`,
    update: `This ${clusterName} huddle has changed: ${changed}. The attachment updates your calendar entry.`,
    cancellation:
      `This ${clusterName} huddle is cancelled${reasonEnding(huddle.cancelReason)} The attachment ` + `removes it from your calendar.`,
  }[kind];
  const details = [`${huddle.title}`, `When: ${whenText(huddle)}`, ...whereText(huddle)].join('\n');
  return renderEmail({
    subject,
    paragraphs: [opening, details, ...(kind !== 'cancellation' && huddle.description ? [huddle.description] : [])],
    action: { label: 'See the huddle', url: pageUrl },
    footer: [`You are receiving this because ${clusterName} invited you to this huddle.`],
  });
}
