// The member's web pages: sign-in by email link into a browser session (`/signin`), "My huddles"
// (`/me`) with cancel, accept and decline, the sessions list, and sign-out. The same services as the
// API do the work; a session is a member token of kind "browser" in an HttpOnly cookie, and every
// form carries the session's CSRF token. GETs change nothing (mail scanners follow links).
import cookie from '@fastify/cookie';
import { fastifyKitaHtml } from '@kitajs/fastify-html-plugin';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError } from '../../errors.js';
import { formField } from '../../lib/page.js';
import { problemInWords, sameSiteOnly } from '../../shared/pages.js';
import { clearSessionCookie, csrfMatches, csrfToken, sessionToken, setSessionCookie } from '../../lib/session.js';
import { isEmailAddress } from '../../lib/text.js';
import { messages } from '../../shared/messages.js';
import { FinishSignInPage, memberSignIn as words, SignInPage, SignInSentPage } from '../../shared/sign-in.js';
import { webActor, type MemberPrincipal } from '../../shared/principals.js';
import { formBodies } from '../../plugins/bodies.js';
import type { BookingsService } from '../bookings/bookings.service.js';
import { isActiveBooking, memberCancelDeadline } from '../bookings/bookings.rules.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { MembersService } from '../members/members.service.js';
import type { SignIn } from '../members/members.sign-in.js';
import { memberFeedLinks } from '../members/members.view.js';
import type { RegistrationsService } from '../registrations/registrations.service.js';
import type { WaitlistService } from '../waitlist/waitlist.service.js';
import { MePage } from './account.views.js';

type Done = keyof typeof messages.me.done;

export interface AccountPagesDeps {
  members: MembersService;
  signIn: SignIn;
  clusters: ClustersService;
  bookings: BookingsService;
  waitlist: WaitlistService;
  registrations: RegistrationsService;
  secretKey: string;
}

export const accountPages: FastifyPluginAsync<AccountPagesDeps> = async (app, deps) => {
  const { members, signIn, clusters, bookings, waitlist, registrations, secretKey } = deps;
  const secure = app.config.publicBaseUrl.startsWith('https:');
  const rateLimit = { max: app.config.signInRateLimitPerMinute, timeWindow: 60_000 };
  await app.register(cookie);
  await app.register(fastifyKitaHtml);
  await app.register(formBodies, { bodyLimit: 4096 });
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'private, no-store');

  /** The signed-in member of this request, or null. */
  function session(request: FastifyRequest): MemberPrincipal | null {
    const token = sessionToken(request);
    return token ? signIn.resolveToken(token, app.clock.now(), 'browser') : null;
  }

  app.get('/signin', { schema: { hide: true }, config: { rateLimit } }, async (request, reply) => {
    const code = (request.query as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '' && code.length <= 200)
      return noStore(reply).html(<FinishSignInPage words={words} code={code} />);
    return noStore(reply).html(<SignInPage words={words} />);
  });

  // Always the same answer, whether or not the address belongs to a member.
  app.post('/signin', { schema: { hide: true }, config: { rateLimit }, preHandler: sameSiteOnly }, async (request, reply) => {
    const email = (formField(request, 'email') ?? '').trim();
    if (!isEmailAddress(email))
      return noStore(reply)
        .code(400)
        .html(<SignInPage words={words} email={email} error={messages.signIn.invalidEmail} />);
    signIn.requestLink(email);
    return noStore(reply).html(<SignInSentPage words={words} />);
  });

  app.post('/signin/session', { schema: { hide: true }, config: { rateLimit }, preHandler: sameSiteOnly }, async (request, reply) => {
    try {
      const issued = signIn.startSession(formField(request, 'code') ?? '', request.headers['user-agent'] ?? null);
      setSessionCookie(reply, issued.token, { secure, expiresAt: issued.expiresAt });
      return reply.redirect('/me', 303);
    } catch (error) {
      if (!isAppError(error) || error.code !== 'SIGN_IN_CODE_INVALID') throw error;
      return noStore(reply)
        .code(400)
        .html(<SignInPage words={words} status="expired" />);
    }
  });

  /** Runs a signed-in form's action after the session and CSRF checks, then shows /me with what happened. */
  function memberAction(path: string, act: (principal: MemberPrincipal, params: Record<string, string>) => Done) {
    app.post(path, { schema: { hide: true }, preHandler: sameSiteOnly }, async (request, reply) => {
      const principal = session(request);
      if (!principal) return reply.redirect('/signin', 303);
      if (!csrfMatches(secretKey, principal.tokenId, formField(request, '_csrf'))) return showMe(reply, principal, null, 'forbidden', 403);
      try {
        const done = act(principal, request.params as Record<string, string>);
        return reply.redirect(`/me?done=${done}`, 303);
      } catch (error) {
        if (!isAppError(error) || error.statusCode >= 500) throw error;
        return showMe(reply, principal, null, problemInWords(error), error.statusCode);
      }
    });
  }

  function showMe(reply: FastifyReply, principal: MemberPrincipal, done: Done | null, error: string | null, status = 200) {
    const member = members.byId(principal.memberId)!;
    const cluster = clusters.getById(member.clusterId);
    const now = app.clock.now();
    const upcoming = (huddle: { endsAt: Date }) => huddle.endsAt > now;
    const pitches = bookings
      .forMember(member.id)
      .filter(({ booking, huddle }) => upcoming(huddle) && isActiveBooking(booking))
      .map(({ booking, slot, huddle }) => ({ booking, slot, huddle, deadline: memberCancelDeadline(huddle) }));
    const places = waitlist.forMember(member.id).filter((place) => upcoming(place.huddle));
    return noStore(reply)
      .code(status)
      .html(
        <MePage
          member={member}
          clusterName={cluster.name}
          contact={cluster.contactEmail ?? messages.me.organisersOf(cluster.name)}
          now={now}
          done={done ? messages.me.done[done] : null}
          error={error === 'forbidden' ? messages.book.expired : error}
          pitches={pitches}
          attending={registrations.forMember(member.id).filter((row) => upcoming(row.huddle))}
          waitlist={places.map((place) => ({
            entryId: place.entry.id,
            huddle: place.huddle,
            position: place.position,
            offer: place.offer ? { id: place.offer.offer.id, slot: place.offer.slot, expiresAt: place.offer.offer.expiresAt } : null,
          }))}
          calendar={memberFeedLinks(app.config.publicBaseUrl, members.feedToken(member))}
          sessions={signIn.sessions(member.id).map((s) => ({ ...s, current: s.id === principal.tokenId }))}
          csrf={csrfToken(secretKey, principal.tokenId)}
        />,
      );
  }

  app.get('/me', { schema: { hide: true } }, async (request, reply) => {
    const principal = session(request);
    if (!principal) return reply.redirect('/signin', 303);
    const done = (request.query as { done?: unknown }).done;
    return showMe(reply, principal, typeof done === 'string' && Object.hasOwn(messages.me.done, done) ? (done as Done) : null, null);
  });

  const memberOf = (principal: MemberPrincipal) => members.byId(principal.memberId)!;

  memberAction('/me/pitches/:id/cancel', (principal, { id }) => {
    bookings.cancel(id!, principal, webActor(principal));
    return 'cancelled';
  });
  memberAction('/me/attendance/:huddleId/cancel', (principal, { huddleId }) => {
    registrations.cancel(memberOf(principal), huddleId!, webActor(principal));
    return 'cancelled';
  });
  memberAction('/me/offers/:id/accept', (principal, { id }) => {
    waitlist.accept(id!, memberOf(principal), webActor(principal));
    return 'accepted';
  });
  memberAction('/me/offers/:id/decline', (principal, { id }) => {
    waitlist.decline(id!, memberOf(principal));
    return 'declined';
  });
  memberAction('/me/calendar-feed/rotate', (principal) => {
    members.rotateFeed(memberOf(principal), webActor(principal));
    return 'rotated';
  });
  memberAction('/me/sessions/:id/end', (principal, { id }) => {
    signIn.endSession(principal, id!);
    return 'ended';
  });

  app.post('/signout', { schema: { hide: true }, preHandler: sameSiteOnly }, async (request, reply) => {
    const principal = session(request);
    if (principal && csrfMatches(secretKey, principal.tokenId, formField(request, '_csrf')))
      signIn.endSession(principal, principal.tokenId);
    clearSessionCookie(reply, secure);
    return reply.redirect('/', 303);
  });
};
