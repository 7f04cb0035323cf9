// A pitch as a calendar event (UID pitch-<id>@host) and the emails about it (pure).
import ical, { ICalEventStatus } from 'ical-generator';
import type { Booking, Huddle, Slot } from '../../db/schema.js';
import { reasonEnding, renderEmail, type RenderedEmail } from '../../lib/email-layout.js';
import { finishEvent, type EventContext } from '../../shared/calendar.js';
import { placeText, slotText, whenText } from '../../shared/huddle-text.js';
import { huddlePageUrl } from '../../shared/calendar-links.js';

export function pitchUid(id: string, host: string): string {
  return `pitch-${id}@${host}`;
}

export interface PitchEventOptions {
  stamp: Date;
  /** Invitations (REQUEST/CANCEL) name the pitcher; feeds (PUBLISH) name nobody. */
  attendee?: { email: string; name: string };
}

/** One folded VEVENT for the pitch slot; the pitcher's own calendar, so it carries the online link. */
export function renderPitchEvent(
  pitch: { booking: Booking; slot: Slot; huddle: Huddle },
  context: EventContext,
  options: PitchEventOptions,
): string {
  const { booking, slot, huddle } = pitch;
  const cancelled = booking.status === 'cancelled' || booking.status === 'rejected' || huddle.status === 'cancelled';
  const details = [
    `Your pitch at ${huddle.title} (slot ${slot.position}).`,
    booking.summary.trim(),
    huddle.onlineUrl ? `Join online: ${huddle.onlineUrl}` : '',
    `Huddle: ${huddlePageUrl(context.baseUrl, huddle.id)}`,
  ].filter((part) => part !== '');
  const calendar = ical();
  const event = calendar.createEvent({
    id: pitchUid(booking.id, context.host),
    sequence: booking.sequence,
    start: slot.startsAt,
    end: slot.endsAt,
    stamp: options.stamp,
    lastModified: booking.updatedAt,
    created: booking.createdAt,
    summary: `${cancelled ? 'Cancelled: ' : ''}Pitch: ${booking.title}`,
    description: details.join('\n\n'),
    location: placeText(huddle),
    url: huddlePageUrl(context.baseUrl, huddle.id),
    status: cancelled ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
  });
  return finishEvent(event.toString(), context, options.attendee && { ...options.attendee, status: 'ACCEPTED' });
}

export type PitchEmailKind = 'confirmed' | 'pending' | 'approved' | 'rejected' | 'cancelled' | 'moved';

export interface PitchEmailContext {
  booking: Booking;
  slot: Slot;
  huddle: Huddle;
  clusterName: string;
  memberName: string;
  /** Who cancelled, for 'cancelled': the member, an organiser, or the huddle's cancellation. */
  cancelledBy?: 'member' | 'organiser' | 'system';
  reason?: string | null;
  /** Page where the member can cancel (GET shows a button; the POST cancels). */
  manageUrl: string;
  /** For 'moved': what changed, e.g. "the time and the title". */
  changed?: string;
  /** Until when the member may still cancel it themselves (null: no longer), and the organisers' address to ask after that. */
  cancelUntil?: Date | null;
  organisersContact?: string;
}

export function pitchEmail(kind: PitchEmailKind, c: PitchEmailContext): RenderedEmail {
  const what = `"${c.booking.title}" at ${c.huddle.title}`;
  const when = `Your slot: ${slotText(c.slot, c.huddle.timezone)}.\nThe huddle: ${whenText(c.huddle)}.`;
  const subject = {
    confirmed: `Pitch confirmed: ${c.huddle.title}`,
    pending: `Pitch request received: ${c.huddle.title}`,
    approved: `Pitch approved: ${c.huddle.title}`,
    rejected: `Pitch not accepted: ${c.huddle.title}`,
    cancelled: `Pitch cancelled: ${c.huddle.title}`,
    moved: `Pitch updated: ${c.huddle.title}`,
  }[kind];
  const cancelledText =
    c.cancelledBy === 'system'
      ? `The huddle is cancelled${reasonEnding(c.reason)} So is your pitch ${what}.`
      : c.cancelledBy === 'organiser'
        ? `The organisers of ${c.clusterName} cancelled your pitch ${what}${reasonEnding(c.reason)}`
        : `Your pitch ${what} is cancelled, as you asked.`;
  const opening = {
    confirmed: `Your pitch ${what} is booked.`,
    pending:
      `Your request to pitch ${what} is in. The organisers approve pitches for this huddle; the slot is held for you ` +
      `meanwhile and you will hear from us either way.`,
    approved: `The organisers approved your pitch ${what}.`,
    rejected: `The organisers of ${c.clusterName} did not accept your pitch ${what}${reasonEnding(c.reason)} The slot ` + `is released.`,
    cancelled: cancelledText,
    moved: `Your pitch ${what} has changed: ${c.changed ?? 'its time'}. The attachment updates your calendar.`,
  }[kind];
  const hasCalendar = kind === 'confirmed' || kind === 'approved' || kind === 'moved';
  const open = kind !== 'rejected' && kind !== 'cancelled';
  const cancellable = c.cancelUntil !== null;
  const cancelText = !open
    ? []
    : c.cancelUntil
      ? [`You can cancel it yourself until ${c.cancelUntil.toISOString().replace('T', ' ').slice(0, 16)} UTC.`]
      : c.cancelUntil === null
        ? [
            `It is too late to cancel it yourself; to cancel, ${
              c.organisersContact ? `write to the organisers at ${c.organisersContact}` : 'ask the organisers (the page below says how)'
            }.`,
          ]
        : [];
  const paragraphs = [
    opening,
    ...(open ? [when] : []),
    ...cancelText,
    ...(hasCalendar && c.huddle.onlineUrl ? [`Online: ${c.huddle.onlineUrl}`] : []),
  ];
  return renderEmail({
    subject,
    greeting: `Hello ${c.memberName},`,
    paragraphs,
    ...(open ? { action: { label: cancellable ? 'See or cancel your pitch' : 'See your pitch', url: c.manageUrl } } : {}),
    footer: [`You are receiving this because you booked a pitch with ${c.clusterName}.`],
  });
}

/** To the organisers, when a pitch is cancelled after booking closed: the slot will likely stay empty. */
export function lateCancellationEmail(c: Omit<PitchEmailContext, 'manageUrl'> & { organisation: string }): RenderedEmail {
  return renderEmail({
    subject: `Late pitch cancellation: ${c.huddle.title}`,
    paragraphs: [
      `${c.memberName} (${c.organisation}) cancelled the pitch "${c.booking.title}" after booking closed.`,
      `Slot ${c.slot.position}: ${slotText(c.slot, c.huddle.timezone)}.`,
    ],
    footer: [`You are receiving this because you organise ${c.clusterName}.`],
  });
}
