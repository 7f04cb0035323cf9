// The page behind "See or cancel your pitch" in booking emails. The link carries a signed token;
// opening it (GET) only shows the pitch and a button, because mail scanners follow links. The
// button POSTs, and cancels as the member would (so the cancellation cutoff applies).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError } from '../../errors.js';
import { p, postForm } from '../../lib/page.js';
import { sendPage, sameSiteOnly } from '../../shared/pages.js';
import { verifyLink } from '../../lib/signed-links.js';
import { slotText } from '../../shared/huddle-text.js';
import { isActiveBooking, memberCancelDeadline } from './bookings.rules.js';
import { CANCEL_LINK_PURPOSE, type BookingDetails, type BookingsService } from './bookings.service.js';
import { formBodies } from '../../plugins/bodies.js';
import { badLinkAnswer } from '../../shared/pages.js';

function describe(d: BookingDetails): string {
  return [p(`"${d.booking.title}" at ${d.huddle.title}`), p(`Slot ${d.slot.position}: ${slotText(d.slot, d.huddle.timezone)}`)].join('\n');
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
  const unknown = (request: FastifyRequest, reply: FastifyReply) =>
    badLink(request, reply, 'The link is not complete, or not one of ours. Use the link in your most recent email about the pitch.');

  app.get('/pitches/cancel', { schema: { hide: true } }, async (request, reply) => {
    const token = (request.query as { token?: unknown }).token;
    const d = lookup(token);
    if (!d) return unknown(request, reply);
    if (!isActiveBooking(d.booking)) {
      return sendPage(reply, 200, `This pitch is ${d.booking.status}`, describe(d));
    }
    const deadline = memberCancelDeadline(d.huddle);
    if (d.member.status !== 'active' || app.clock.now() >= deadline) {
      const why =
        d.member.status !== 'active' ? 'Your membership is suspended, so it cannot be cancelled here' : 'It is too late to cancel it here';
      return sendPage(
        reply,
        200,
        'Your pitch',
        [describe(d), p(`${why}. To cancel it, please write to the organisers: ${bookings.organisersContact(d.huddle)}.`)].join('\n'),
      );
    }
    return sendPage(
      reply,
      200,
      'Your pitch',
      [
        describe(d),
        p(
          `You can cancel it until ${deadline.toISOString().replace('T', ' ').slice(0, 16)} UTC. The slot is then offered to the ` +
            `next organisation waiting.`,
        ),
        postForm('/pitches/cancel', { token: token as string }, 'Cancel my pitch'),
      ].join('\n'),
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
        'Your pitch is cancelled',
        [describe(after), p('We have emailed you a confirmation that removes it from your calendar.')].join('\n'),
      );
    } catch (error) {
      if (!isAppError(error) || error.statusCode >= 500) throw error;
      return sendPage(reply, error.statusCode, 'Your pitch was not cancelled', [describe(d), p(error.message)].join('\n'));
    }
  });
};
