// The page behind "Accept or decline the slot" in offer emails. GET shows the offer and two buttons
// (mail scanners follow links, so nothing changes on GET); the buttons POST.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError } from '../../errors.js';
import { verifyLink } from '../../lib/signed-links.js';
import { ButtonForm } from '../../shared/forms.js';
import { slotText } from '../../shared/huddle-text.js';
import { dates, messages } from '../../shared/messages.js';
import { badLinkAnswer, problemInWords, sendPage, sameSiteOnly } from '../../shared/pages.js';
import { formBodies } from '../../plugins/bodies.js';
import { OFFER_LINK_PURPOSE, type WaitlistService } from './waitlist.service.js';

const m = messages.offerLink;

export const waitlistPages: FastifyPluginAsync<{ waitlist: WaitlistService; secretKey: string }> = async (app, { waitlist, secretKey }) => {
  await app.register(formBodies, { bodyLimit: 4096 });

  function lookup(token: unknown) {
    if (typeof token !== 'string') return undefined;
    const id = verifyLink(secretKey, OFFER_LINK_PURPOSE, token);
    return id ? waitlist.findOffer(id) : undefined;
  }
  // No per-address limit: a genuine link never fails for load (lib/bad-links.ts).
  const badLink = badLinkAnswer();
  const unknown = (request: FastifyRequest, reply: FastifyReply) => badLink(request, reply, m.brokenLink);

  app.get('/waitlist/offer', { schema: { hide: true } }, async (request, reply) => {
    const token = (request.query as { token?: unknown }).token;
    const found = lookup(token);
    if (!found) return unknown(request, reply);
    const { huddle, slot, offer } = found;
    const what = (
      <>
        <p safe>{m.slot(huddle.title, slot.position, slotText(slot, huddle.timezone))}</p>
        <p safe>{m.pitch(found.entry.title)}</p>
      </>
    );
    if (offer.status !== 'open' || offer.expiresAt <= app.clock.now()) {
      const closed = m.closed(offer.status === 'open' ? 'expired' : offer.status);
      return sendPage(
        reply,
        200,
        m.closedTitle,
        <>
          {what}
          <p safe>{closed}</p>
        </>,
      );
    }
    return sendPage(
      reply,
      200,
      m.openTitle,
      <>
        {what}
        <p safe>{m.heldUntil(dates.moment(offer.expiresAt, huddle.timezone))}</p>
        <ButtonForm action="/waitlist/offer" hidden={{ token: token as string, action: 'accept' }} button={m.accept} />
        <ButtonForm action="/waitlist/offer" hidden={{ token: token as string, action: 'decline' }} button={m.decline} secondary />
      </>,
    );
  });

  app.post('/waitlist/offer', { schema: { hide: true }, bodyLimit: 4096, preHandler: sameSiteOnly }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const found = lookup(body.token);
    if (!found) return unknown(request, reply);
    const actor = { type: 'member' as const, id: found.member.id, label: `${found.member.name} (email link)` };
    try {
      if (body.action === 'accept') {
        const booked = waitlist.accept(found.offer.id, found.member, actor);
        const title = booked.booking.status === 'pending' ? m.pendingTitle : m.bookedTitle;
        return sendPage(reply, 200, title, <p>{m.booked}</p>);
      }
      if (body.action === 'decline') {
        waitlist.decline(found.offer.id, found.member);
        return sendPage(reply, 200, m.declinedTitle, <p>{m.declined}</p>);
      }
      return sendPage(reply, 400, m.chooseTitle, <p>{m.choose}</p>);
    } catch (error) {
      if (!isAppError(error) || error.statusCode >= 500) throw error;
      return sendPage(reply, error.statusCode, messages.links.failedTitle, <p safe>{problemInWords(error)}</p>);
    }
  });
};
