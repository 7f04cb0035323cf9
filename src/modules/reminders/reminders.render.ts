// The reminder email: when and where, the online link, and the run of show (pure).
import { DateTime } from 'luxon';
import type { Huddle, Slot } from '../../db/schema.js';
import { renderEmail, type RenderedEmail } from '../../lib/email-layout.js';
import { whenText, whereText } from '../../shared/huddle-text.js';

export function reminderEmail(c: {
  huddle: Huddle;
  clusterName: string;
  memberName: string;
  agenda: { slot: Slot; organisation: string; title: string }[];
}): RenderedEmail {
  const where = whereText(c.huddle);
  const time = (at: Date) => DateTime.fromJSDate(at, { zone: c.huddle.timezone }).toFormat('HH:mm');
  const agenda =
    c.agenda.length === 0
      ? 'No pitches are booked yet.'
      : [
          'Pitches:',
          ...c.agenda.map(
            (item) => `${item.slot.position}. ${time(item.slot.startsAt)}–${time(item.slot.endsAt)}: ${item.organisation}, "${item.title}"`,
          ),
        ].join('\n');
  return renderEmail({
    subject: `Tomorrow: ${c.huddle.title}`,
    greeting: `Hello ${c.memberName},`,
    paragraphs: [`A reminder that ${c.huddle.title} is coming up.`, [`When: ${whenText(c.huddle)}`, ...where].join('\n'), agenda],
    footer: [`You are receiving this because you are attending or pitching at a ${c.clusterName} huddle.`],
  });
}
