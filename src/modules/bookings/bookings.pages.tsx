// The page behind "See or cancel your pitch" in booking emails. The link carries a signed token;
// opening it (GET) only shows the pitch and a button, because mail scanners follow links. The
// button POSTs, and cancels as the member would (so the cancellation cutoff applies).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError } from '../../errors.js';
import { verifyLink } from '../../lib/signed-links.js';
import { ButtonForm } from '../../shared/forms.js';
import { slotText } from '../../shared/huddle-text.js';
import { dates, messages } from '../../shared/messages.js';
import { badLinkAnswer, problemInWords, sendPage, sameSiteOnly } from '../../shared/pages.js';
import { formBodies } from '../../plugins/bodies.js';
import { isActiveBooking, memberCancelDeadline } from './bookings.rules.js';
import { CANCEL_LINK_PURPOSE, type BookingDetails, type BookingsService } from './bookings.service.js';

const m = messages.pitchLink;

function Pitch({ d }: { d: BookingDetails }) {
  return (
    <>
      <p safe>{m.pitch(d.booking.title, d.huddle.title)}</p>
      <p safe>{m.slot(d.slot.position, slotText(d.slot, d.huddle.timezone))}</p>
    </>
  );
}

export const bookingsPages: FastifyPluginAsync<{ bookings: BookingsService; secretKey: string }> = async (app, { bookings, secretKey }) => {
  await app.register(formBodies, { bodyLimit: 4096 });

  function lookup(token: unknown): BookingDetails | undefined {
    if (typeof token !== 'string') return undefined;
    const id = verifyLink(secretKey, CANCEL_LINK_PURPOSE, token);
    return id ? bookings.find(id) : undefined;
  }

  // No per-address limit: a genuine link never fails for load (lib/bad-links.ts).
  const badLink = badLinkAnswer();
  const unknown = (request: FastifyRequest, reply: FastifyReply) => badLink(request, reply, m.brokenLink);

  app.get('/pitches/cancel', { schema: { hide: true } }, async (request, reply) => {
    const token = (request.query as { token?: unknown }).token;
    const d = lookup(token);
    if (!d) return unknown(request, reply);
    if (!isActiveBooking(d.booking)) return sendPage(reply, 200, m.statusTitle(d.booking.status), <Pitch d={d} />);
    const deadline = memberCancelDeadline(d.huddle);
    if (d.member.status !== 'active' || app.clock.now() >= deadline) {
      const why = m.writeTo(d.member.status !== 'active' ? m.suspended : m.tooLate, bookings.organisersContact(d.huddle));
      return sendPage(
        reply,
        200,
        m.title,
        <>
          <Pitch d={d} />
          <p safe>{why}</p>
        </>,
      );
    }
    return sendPage(
      reply,
      200,
      m.title,
      <>
        <Pitch d={d} />
        <p safe>{m.until(dates.moment(deadline, d.huddle.timezone))}</p>
        <ButtonForm action="/pitches/cancel" hidden={{ token: token as string }} button={m.cancelButton} />
      </>,
    );
  });

  app.post('/pitches/cancel', { schema: { hide: true }, bodyLimit: 4096, preHandler: sameSiteOnly }, async (request, reply) => {
    const token = (request.body as Record<string, unknown> | undefined)?.token;
    const d = lookup(token);
    if (!d) return unknown(request, reply);
    const member = {
      kind: 'member' as const,
      memberId: d.member.id,
      clusterId: d.member.clusterId,
      clusterSlug: '',
      tokenId: '',
      label: d.member.name,
    };
    try {
      const after = bookings.cancel(d.booking.id, member, { type: 'member', id: d.member.id, label: `${d.member.name} (email link)` });
      return sendPage(
        reply,
        200,
        m.cancelledTitle,
        <>
          <Pitch d={after} />
          <p>{m.cancelled}</p>
        </>,
      );
    } catch (error) {
      if (!isAppError(error) || error.statusCode >= 500) throw error;
      return sendPage(
        reply,
        error.statusCode,
        m.notCancelledTitle,
        <>
          <Pitch d={d} />
          <p safe>{problemInWords(error)}</p>
        </>,
      );
    }
  });
};
