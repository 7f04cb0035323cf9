// The waitlist's emails: a slot offered (with its deadline) and an offer that lapsed (pure).
import type { Huddle, Slot } from '../../db/schema.js';
import { renderEmail, type RenderedEmail } from '../../lib/email-layout.js';
import { slotText } from '../../shared/huddle-text.js';

export function offerEmail(c: {
  huddle: Huddle;
  slot: Slot;
  clusterName: string;
  memberName: string;
  title: string;
  expiresAt: Date;
  url: string;
}): RenderedEmail {
  return renderEmail({
    subject: `A pitch slot is free: ${c.huddle.title}`,
    greeting: `Hello ${c.memberName},`,
    paragraphs: [
      `A slot has freed up at ${c.huddle.title} and your organisation is first in line. It is held for you until ` +
        `${c.expiresAt.toISOString().replace('T', ' ').slice(0, 16)} UTC.`,
      `Slot ${c.slot.position}: ${slotText(c.slot, c.huddle.timezone)}. Your pitch: "${c.title}".`,
      'The button opens a page where you can accept or decline. If you do neither, the slot goes to the next organisation in line.',
    ],
    action: { label: 'Accept or decline the slot', url: c.url },
    footer: [`You are receiving this because your organisation joined the waitlist of a ${c.clusterName} huddle.`],
  });
}

export function offerLapsedEmail(c: { huddle: Huddle; clusterName: string; memberName: string }): RenderedEmail {
  return renderEmail({
    subject: `Slot offer expired: ${c.huddle.title}`,
    greeting: `Hello ${c.memberName},`,
    paragraphs: [
      `The pitch slot offered to you at ${c.huddle.title} was not taken in time, so it has gone to the next organisation in line. ` +
        `You are no longer on this huddle's waitlist; you are welcome to join the next one.`,
    ],
    footer: [`You are receiving this because your organisation joined the waitlist of a ${c.clusterName} huddle.`],
  });
}
