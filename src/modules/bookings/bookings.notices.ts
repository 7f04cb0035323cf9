// What a pitcher is told, in the transaction of the change: confirmations and moves carry the slot as
// METHOD:REQUEST, a cancellation of a confirmed pitch as CANCEL; each links to the cancel page.
import type { DbOrTx } from '../../db/client.js';
import type { Cluster } from '../../db/schema.js';
import type { Clock } from '../../lib/clock.js';
import { signLink } from '../../lib/signed-links.js';
import { eventContext, renderCalendar, type CalendarMethod } from '../../shared/calendar.js';
import type { Site } from '../../shared/site.js';
import type { Outbox } from '../outbox/outbox.service.js';
import { memberCancelDeadline } from './bookings.rules.js';
import { lateCancellationEmail, pitchEmail, renderPitchEvent, type PitchEmailKind } from './bookings.render.js';
import type { BookingDetails } from './bookings.types.js';

export const CANCEL_LINK_PURPOSE = 'cancel-booking';

export type CancelledBy = 'member' | 'organiser' | 'system';

export interface PitchNotice {
  kind: PitchEmailKind;
  pitch: BookingDetails;
  cluster: Cluster;
  cancelledBy?: CancelledBy;
  reason?: string | null;
  /** For a cancellation: whether the pitch was confirmed (so calendars hold it, and get a CANCEL). */
  wasConfirmed?: boolean;
  /** For 'moved': what changed, e.g. "the time and the title". */
  changed?: string;
}

export function createPitchNotices(deps: { outbox: Outbox; clock: Clock; site: Site; secretKey: string }) {
  const { outbox } = deps;

  /** The page behind "See or cancel your pitch": a signed link is the credential. */
  function manageUrl(bookingId: string): string {
    return `${deps.site.baseUrl}/pitches/cancel?token=${encodeURIComponent(signLink(deps.secretKey, CANCEL_LINK_PURPOSE, bookingId))}`;
  }

  return {
    manageUrl,

    /** Emails the pitcher about their pitch. */
    tell(tx: DbOrTx, notice: PitchNotice): void {
      const { kind, pitch, cluster } = notice;
      const deadline = memberCancelDeadline(pitch.huddle);
      const email = pitchEmail(kind, {
        booking: pitch.booking,
        slot: pitch.slot,
        huddle: pitch.huddle,
        clusterName: cluster.name,
        memberName: pitch.member.name,
        manageUrl: manageUrl(pitch.booking.id),
        cancelledBy: notice.cancelledBy,
        reason: notice.reason,
        changed: notice.changed,
        cancelUntil: deps.clock.now() < deadline ? deadline : null,
        organisersContact: cluster.contactEmail ?? undefined,
      });
      const method: CalendarMethod | null =
        kind === 'confirmed' || kind === 'approved' || kind === 'moved'
          ? 'REQUEST'
          : kind === 'cancelled' && notice.wasConfirmed
            ? 'CANCEL'
            : null;
      const calendar = method
        ? {
            method,
            content: renderCalendar({ name: cluster.name, method }, [
              renderPitchEvent(pitch, eventContext(cluster, deps.site), {
                stamp: deps.clock.now(),
                attendee: { email: pitch.member.email, name: pitch.member.name },
              }),
            ]),
          }
        : undefined;
      outbox.enqueue(tx, {
        kind: `pitch.${kind}`,
        to: pitch.member.email,
        clusterId: cluster.id,
        ...email,
        ...(cluster.contactEmail ? { replyTo: cluster.contactEmail } : {}),
        ...(calendar ? { calendar } : {}),
      });
    },

    /** Tells the organisers that a pitch was cancelled after booking closed: the slot will likely stay empty. */
    tellOrganisersOfLateCancellation(tx: DbOrTx, pitch: BookingDetails, cluster: Cluster, organisers: string[]): void {
      const email = lateCancellationEmail({
        ...pitch,
        clusterName: cluster.name,
        memberName: pitch.member.name,
        organisation: pitch.member.organisation,
      });
      for (const organiser of organisers)
        outbox.enqueue(tx, { kind: 'pitch.late_cancellation', to: organiser, clusterId: cluster.id, ...email });
    },
  };
}
