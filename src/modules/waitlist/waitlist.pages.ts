// The page behind "Accept or decline the slot" in offer emails. GET shows the offer and two buttons
// (mail scanners follow links, so nothing changes on GET); the buttons POST.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError } from '../../errors.js';
import { escapeHtml } from '../../lib/html.js';
import { p } from '../../lib/page.js';
import { sendPage, sameSiteOnly } from '../../shared/pages.js';
import { verifyLink } from '../../lib/signed-links.js';
import { slotText } from '../../shared/huddle-text.js';
import { OFFER_LINK_PURPOSE, type WaitlistService } from './waitlist.service.js';
import { formBodies } from '../../plugins/bodies.js';
import { badLinkAnswer } from '../../shared/pages.js';

export const waitlistPages: FastifyPluginAsync<{ waitlist: WaitlistService; secretKey: string }> = async (app, { waitlist, secretKey }) => {
  await app.register(formBodies, { bodyLimit: 4096 });

  function lookup(token: unknown) {
    if (typeof token !== 'string') return undefined;
    const id = verifyLink(secretKey, OFFER_LINK_PURPOSE, token);
    return id ? waitlist.findOffer(id) : undefined;
  }
  // No per-address limit: a genuine link never fails for load (lib/bad-links.ts).
  const badLink = badLinkAnswer();
  const unknown = (request: FastifyRequest, reply: FastifyReply) =>
    badLink(request, reply, 'The link is not complete, or not one of ours. Use the link in your most recent email.');

  app.get('/waitlist/offer', { schema: { hide: true } }, async (request, reply) => {
    const token = (request.query as { token?: unknown }).token;
    const found = lookup(token);
    if (!found) return unknown(request, reply);
    const what = [
      p(`${found.huddle.title}, slot ${found.slot.position}: ${slotText(found.slot, found.huddle.timezone)}`),
      p(`Your pitch: "${found.entry.title}"`),
    ].join('\n');
    if (found.offer.status !== 'open' || found.offer.expiresAt <= app.clock.now()) {
      return sendPage(
        reply,
        200,
        'This offer is closed',
        [what, p(`It was ${found.offer.status === 'open' ? 'expired' : found.offer.status}.`)].join('\n'),
      );
    }
    const hidden = `<input type="hidden" name="token" value="${escapeHtml(token as string)}">`;
    return sendPage(
      reply,
      200,
      'A pitch slot is yours if you want it',
      [
        what,
        p(`Held for you until ${found.offer.expiresAt.toISOString().replace('T', ' ').slice(0, 16)} UTC.`),
        `<form method="post" action="/waitlist/offer">\n${hidden}\n<input type="hidden" name="action" value="accept">\n<button ` +
          `type="submit">Accept and book the slot</button>\n</form>`,
        `<form method="post" action="/waitlist/offer">\n${hidden}\n<input type="hidden" name="action" value="decline">\n<p><button ` +
          `type="submit">Decline: give it to the next in line</button></p>\n</form>`,
      ].join('\n'),
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
        return sendPage(
          reply,
          200,
          booked.booking.status === 'pending' ? 'Slot held: waiting for approval' : 'Your pitch is booked',
          p('We have emailed you the details with a calendar invitation.'),
        );
      }
      if (body.action === 'decline') {
        waitlist.decline(found.offer.id, found.member);
        return sendPage(reply, 200, 'Offer declined', p('The slot goes to the next organisation in line. Thank you for letting us know.'));
      }
      return sendPage(reply, 400, 'Choose accept or decline', p('Open the link from your email again and press one of the buttons.'));
    } catch (error) {
      if (!isAppError(error) || error.statusCode >= 500) throw error;
      return sendPage(reply, error.statusCode, 'That did not work', p(error.message));
    }
  });
};
