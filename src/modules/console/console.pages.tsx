// The organiser console (`/console`): organisers and viewers sign in by email link to a browser session
// (its cookie is sent only to /console), choose one of their clusters, and see its dashboard and their
// API keys. The same services as the API do the work; every POST checks the session, the cluster role
// and the CSRF token, and a viewer's changes are refused as on the API. GETs change nothing.
import cookie from '@fastify/cookie';
import { fastifyKitaHtml } from '@kitajs/fastify-html-plugin';
import type { FastifyError, FastifyPluginAsync, FastifyReply } from 'fastify';
import { isAppError } from '../../errors.js';
import { formField } from '../../lib/page.js';
import { clearSessionCookie, CONSOLE_SESSION, csrfMatches, setSessionCookie } from '../../lib/session.js';
import { isEmailAddress } from '../../lib/text.js';
import { messages } from '../../shared/messages.js';
import { problemInWords, sameSiteOnly, sendPage } from '../../shared/pages.js';
import { toAppError } from '../../plugins/problems.js';
import { consoleActor } from '../../shared/principals.js';
import { FinishSignInPage, organiserSignIn as words, SignInPage, SignInSentPage } from '../../shared/sign-in.js';
import { formBodies } from '../../plugins/bodies.js';
import type { AuditService } from '../audit/audit.service.js';
import type { BookingsService } from '../bookings/bookings.service.js';
import type { CampaignsService } from '../campaigns/campaigns.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { HuddlesService } from '../huddles/huddles.service.js';
import type { InvitationsService } from '../invitations/invitations.service.js';
import type { MembersService } from '../members/members.service.js';
import type { OrganisersService } from '../organisers/organisers.service.js';
import type { ConsoleSignIn } from '../organisers/organisers.sign-in.js';
import type { RegistrationsService } from '../registrations/registrations.service.js';
import type { SubscribersService } from '../subscribers/subscribers.service.js';
import type { ReportsService } from '../reports/reports.service.js';
import type { WaitlistService } from '../waitlist/waitlist.service.js';
import { consoleAuditRoutes } from './console.audit.js';
import { consoleCheckInRoutes } from './console.checkin.js';
import { consoleHuddleRoutes } from './console.huddle.js';
import { consoleReportRoutes } from './console.report.js';
import { consoleNewsletterRoutes } from './console.newsletters.js';
import { consoleHuddleEditRoutes } from './console.huddle-edit.js';
import { consoleInvitationRoutes } from './console.invitations.js';
import { consoleMemberRoutes } from './console.members.js';
import { consoleSubscriberRoutes } from './console.subscribers.js';
import { createConsoleContext, type InCluster, type ShowRefusal } from './console.context.js';
import { ClusterChoicePage, DashboardPage, KeysPage, type DashboardHuddle } from './console.views.js';

const m = messages.console;
/** How many huddles to come the dashboard shows. */
const DASHBOARD_HUDDLES = 10;

export interface ConsolePagesDeps {
  campaigns: CampaignsService;
  reports: ReportsService;
  invitations: InvitationsService;
  subscribers: SubscribersService;
  members: MembersService;
  audit: AuditService;
  clusters: ClustersService;
  consoleSignIn: ConsoleSignIn;
  organisers: OrganisersService;
  huddles: HuddlesService;
  bookings: BookingsService;
  registrations: RegistrationsService;
  waitlist: WaitlistService;
  secretKey: string;
}

export const consolePages: FastifyPluginAsync<ConsolePagesDeps> = async (app, deps) => {
  const { consoleSignIn, organisers, secretKey } = deps;
  const secure = app.config.publicBaseUrl.startsWith('https:');
  const rateLimit = { max: app.config.signInRateLimitPerMinute, timeWindow: 60_000 };
  await app.register(cookie);
  await app.register(fastifyKitaHtml);
  // Room for a pasted list of addresses or a newsletter's text.
  await app.register(formBodies, { bodyLimit: 256 * 1024 });
  // A refusal a console form can meet before any route runs (a body too large, not UTF-8) is a page, not
  // JSON; anything else goes on to the app's handler.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const refusal = toAppError(error);
    if (refusal.statusCode >= 500) throw error;
    request.log.info({ code: refusal.code, status: refusal.statusCode }, 'request refused');
    return sendPage(reply, refusal.statusCode, m.refusedTitle, <p safe>{problemInWords(refusal)}</p>);
  });
  const context = createConsoleContext(app, { consoleSignIn, secretKey });
  const { noStore, session, frameOf, inCluster } = context;
  const { huddleOf } = consoleHuddleRoutes(app, context, deps);
  consoleInvitationRoutes(app, context, { ...deps, huddleOf });
  consoleHuddleEditRoutes(app, context, { ...deps, huddleOf });
  consoleCheckInRoutes(app, context, { ...deps, huddleOf });
  consoleReportRoutes(app, context, deps);
  consoleNewsletterRoutes(app, context, deps);
  consoleAuditRoutes(app, context, deps);
  consoleMemberRoutes(app, context, deps);
  consoleSubscriberRoutes(app, context, deps);

  app.get('/console/signin', { schema: { hide: true }, config: { rateLimit } }, async (request, reply) => {
    const code = (request.query as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '' && code.length <= 200)
      return noStore(reply).html(<FinishSignInPage words={words} code={code} />);
    return noStore(reply).html(<SignInPage words={words} />);
  });

  // Always the same answer, whether or not the address belongs to an organiser.
  app.post('/console/signin', { schema: { hide: true }, config: { rateLimit }, preHandler: sameSiteOnly }, async (request, reply) => {
    const email = (formField(request, 'email') ?? '').trim();
    if (!isEmailAddress(email))
      return noStore(reply)
        .code(400)
        .html(<SignInPage words={words} email={email} error={messages.signIn.invalidEmail} />);
    consoleSignIn.requestLink(email);
    return noStore(reply).html(<SignInSentPage words={words} />);
  });

  app.post(
    '/console/signin/session',
    { schema: { hide: true }, config: { rateLimit }, preHandler: sameSiteOnly },
    async (request, reply) => {
      try {
        const issued = consoleSignIn.startSession(formField(request, 'code') ?? '', request.headers['user-agent'] ?? null);
        setSessionCookie(reply, issued.token, { secure, expiresAt: issued.expiresAt, cookie: CONSOLE_SESSION });
        return reply.redirect('/console', 303);
      } catch (error) {
        if (!isAppError(error) || error.code !== 'SIGN_IN_CODE_INVALID') throw error;
        return noStore(reply)
          .code(400)
          .html(<SignInPage words={words} status="expired" />);
      }
    },
  );

  app.post('/console/signout', { schema: { hide: true }, preHandler: sameSiteOnly }, async (request, reply) => {
    const signedIn = session(request);
    if (signedIn && csrfMatches(secretKey, signedIn.sessionId, formField(request, '_csrf')))
      consoleSignIn.endSession(signedIn, signedIn.sessionId);
    clearSessionCookie(reply, secure, CONSOLE_SESSION);
    return reply.redirect('/console/signin', 303);
  });

  app.get('/console', { schema: { hide: true } }, async (request, reply) => {
    const signedIn = session(request);
    if (!signedIn) return reply.redirect('/console/signin', 303);
    if (signedIn.roles.length === 1) return reply.redirect(`/console/${signedIn.roles[0]!.clusterSlug}`, 303);
    return noStore(reply).html(<ClusterChoicePage frame={frameOf(signedIn, null)} />);
  });

  app.get('/console/:cluster', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    if (!here) return reply;
    const now = app.clock.now();
    return noStore(reply).html(<DashboardPage frame={here.frame} now={now} huddles={dashboardHuddles(here.principal.clusterId, now)} />);
  });

  /** The next huddles of a cluster (drafts included) with their pitches, places and waitlists counted. */
  function dashboardHuddles(clusterId: string, now: Date): DashboardHuddle[] {
    const ids = deps.huddles.list(clusterId, { from: now.toISOString(), limit: DASHBOARD_HUDDLES }, 'organiser').items.map((row) => row.id);
    const found = deps.huddles.getMany(app.db, ids);
    const pitches = deps.bookings.tally(ids);
    const places = deps.registrations.tally(ids);
    const lines = deps.waitlist.tally(ids);
    return ids.flatMap((id) => {
      const huddle = found.get(id);
      if (!huddle) return [];
      const pitch = pitches.get(id)!;
      const line = lines.get(id)!;
      return [
        {
          id,
          title: huddle.title,
          status: huddle.status,
          startsAt: huddle.startsAt,
          timezone: huddle.timezone,
          capacity: huddle.capacity,
          ...pitch,
          free: Math.max(0, pitch.slots - pitch.confirmed - pitch.pending - line.offersExpiring.length),
          pitchWaitlist: line.waiting,
          offersExpiring: line.offersExpiring,
          ...places.get(id)!,
        },
      ];
    });
  }

  function showKeys(
    reply: FastifyReply,
    here: InCluster,
    extra: { newKey?: { key: string; expiresAt: Date }; done?: string; error?: string; days?: string },
    status = 200,
  ) {
    return noStore(reply)
      .code(status)
      .html(
        <KeysPage
          frame={here.frame}
          now={app.clock.now()}
          keys={organisers.keysOf(here.principal.organiserId)}
          sessions={consoleSignIn.sessions(here.session.email)}
          {...extra}
        />,
      );
  }

  const doneWords = { revoked: m.keyRevokedDone, ended: m.sessionEnded } as const;

  app.get('/console/:cluster/keys', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    if (!here) return reply;
    const done = (request.query as { done?: unknown }).done;
    return showKeys(reply, here, {
      done: typeof done === 'string' && Object.hasOwn(doneWords, done) ? doneWords[done as keyof typeof doneWords] : undefined,
    });
  });

  const refuse: ShowRefusal = (reply, here, request, error, status) => showKeys(reply, here, { error }, status);

  context.action('/console/:cluster/keys', { changes: true, refuse }, (here, request, reply) => {
    const days = (formField(request, 'days') ?? '').trim();
    if (!/^\d{1,4}$/.test(days) || Number(days) < 1 || Number(days) > 3650) return showKeys(reply, here, { error: m.badDays, days }, 400);
    const issued = organisers.issueOwnKey(here.principal.organiserId, consoleActor(here.principal), Number(days));
    return showKeys(reply, here, { newKey: { key: issued.apiKey, expiresAt: issued.expiresAt } }, 201);
  });

  // Giving up access is never refused, a viewer's included.
  context.action('/console/:cluster/keys/:id/revoke', { changes: false, refuse }, (here, request, reply) => {
    organisers.revokeOwnKey(here.principal.organiserId, (request.params as { id: string }).id, consoleActor(here.principal));
    return reply.redirect(`/console/${here.principal.clusterSlug}/keys?done=revoked`, 303);
  });

  context.action('/console/:cluster/sessions/:id/end', { changes: false, refuse }, (here, request, reply) => {
    if (!consoleSignIn.endSession(here.session, (request.params as { id: string }).id))
      return showKeys(reply, here, { error: m.noSuchSession }, 404);
    return reply.redirect(`/console/${here.principal.clusterSlug}/keys?done=ended`, 303);
  });
};
