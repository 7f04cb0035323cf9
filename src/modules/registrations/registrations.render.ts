// Emails about attending a huddle: registered, waitlisted, promoted from the waitlist, cancelled by the
// member; and, to everyone registered, the huddle updated or cancelled by its organisers (pure).
import type { Huddle } from '../../db/schema.js';
import { reasonEnding, renderEmail, type RenderedEmail } from '../../lib/email-layout.js';
import { whenText, whereText } from '../../shared/huddle-text.js';

export type RegistrationEmailKind = 'registered' | 'waitlisted' | 'promoted' | 'cancelled' | 'huddle-updated' | 'huddle-cancelled';

export function registrationEmail(
  kind: RegistrationEmailKind,
  c: { huddle: Huddle; clusterName: string; memberName: string; position?: number; changed?: string },
): RenderedEmail {
  const details = [`When: ${whenText(c.huddle)}`, ...whereText(c.huddle)].join('\n');
  const content = {
    registered: {
      subject: `You're registered: ${c.huddle.title}`,
      opening: `You have a place at ${c.huddle.title}. The attachment adds it to your calendar.`,
    },
    waitlisted: {
      subject: `On the waiting list: ${c.huddle.title}`,
      opening:
        `${c.huddle.title} is full, so you are number ${c.position ?? 1} on its waiting list. If a place frees up you get it ` +
        `automatically, and we email you.`,
    },
    promoted: {
      subject: `A place came free: ${c.huddle.title}`,
      opening: `A place came free at ${c.huddle.title} and it is yours. The attachment adds it to your calendar.`,
    },
    cancelled: {
      subject: `Registration cancelled: ${c.huddle.title}`,
      opening: `Your place at ${c.huddle.title} is cancelled, as you asked. The attachment removes it from your calendar.`,
    },
    'huddle-updated': {
      subject: `Updated: ${c.huddle.title}`,
      opening: `${c.huddle.title} has changed: ${c.changed ?? 'the details'}. Your place is kept; the attachment updates your calendar.`,
    },
    'huddle-cancelled': {
      subject: `Cancelled: ${c.huddle.title}`,
      opening:
        `The organisers cancelled ${c.huddle.title}${reasonEnding(c.huddle.cancelReason)} ` +
        `The attachment removes it from your calendar.`,
    },
  }[kind];
  const gone = kind === 'cancelled' || kind === 'huddle-cancelled';
  return renderEmail({
    subject: content.subject,
    greeting: `Hello ${c.memberName},`,
    paragraphs: [content.opening, ...(gone ? [] : [details])],
    footer: [`You are receiving this because you registered for a ${c.clusterName} huddle.`],
  });
}
