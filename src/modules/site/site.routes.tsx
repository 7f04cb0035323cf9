// The public web pages, on the same services as the API: the instance's home (`/`), a cluster's page
// (`/c/{cluster}`, with the newsletter sign-up form), and a huddle's page (`/h/{huddleId}`). Every
// page is rendered on the server and works without JavaScript; the sign-up form also works when
// pasted on the cluster's own website.
import cookie from '@fastify/cookie';
import { fastifyKitaHtml } from '@kitajs/fastify-html-plugin';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Cluster, Huddle, Topic } from '../../db/schema.js';
import { isAppError, problem } from '../../errors.js';
import { isId } from '../../lib/ids.js';
import { formField, formFields } from '../../lib/page.js';
import { problemInWords, sameSiteOnly } from '../../shared/pages.js';
import { csrfMatches, csrfToken, sessionToken } from '../../lib/session.js';
import { isEmailAddress, SLUG } from '../../lib/text.js';
import { dates, messages } from '../../shared/messages.js';
import { webActor, type MemberPrincipal } from '../../shared/principals.js';
import { formBodies } from '../../plugins/bodies.js';
import { isActiveBooking } from '../bookings/bookings.rules.js';
import type { BookingsService } from '../bookings/bookings.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import { bookingWindow } from '../huddles/huddles.settings.js';
import { isPublic } from '../huddles/huddles.queries.js';
import type { HuddlesService } from '../huddles/huddles.service.js';
import type { MembersService } from '../members/members.service.js';
import type { SignIn } from '../members/members.sign-in.js';
import type { WaitlistService } from '../waitlist/waitlist.service.js';
import type { RegistrationsService } from '../registrations/registrations.service.js';
import type { SubscribersService } from '../subscribers/subscribers.service.js';
import {
  ClusterPage,
  EmbedPage,
  EMPTY_SIGN_UP,
  HomePage,
  HuddlePage,
  NotFoundPage,
  SignUpSentPage,
  type PitchForm,
  type SignUpForm,
  type Viewer,
} from './site.views.js';

const EMPTY_PITCH: PitchForm = { title: '', summary: '', slotId: '', theme: '', shareContact: false, error: null };

const m = messages;
const TOPICS = Object.keys(messages.topicNames) as Topic[];
/** Public pages change when a huddle does; a minute of caching spares the database, never a visitor. */
const PUBLIC_CACHE = 'public, max-age=60';

export interface SiteDeps {
  clusters: ClustersService;
  huddles: HuddlesService;
  bookings: BookingsService;
  registrations: RegistrationsService;
  subscribers: SubscribersService;
  members: MembersService;
  signIn: SignIn;
  waitlist: WaitlistService;
  secretKey: string;
}

/** `value` when it is an http(s) address on one of `origins`, else null (never an open redirect). */
export function returnAddress(value: string | undefined, origins: string[]): string | null {
  if (!value || value.length > 2048) return null;
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && origins.includes(url.origin) ? url.href : null;
  } catch {
    return null;
  }
}

export const sitePages: FastifyPluginAsync<SiteDeps> = async (app, deps) => {
  const { clusters, huddles, bookings, registrations, subscribers, members, signIn, waitlist, secretKey } = deps;
  const baseUrl = app.config.publicBaseUrl;
  await app.register(cookie);
  await app.register(fastifyKitaHtml);
  await app.register(formBodies, { bodyLimit: 4096 });

  const notFound = (reply: FastifyReply) =>
    reply
      .code(404)
      .header('cache-control', 'no-store')
      .html(<NotFoundPage />);
  const clusterOf = (slug: unknown) => (typeof slug === 'string' && SLUG.test(slug) ? clusters.find(slug) : undefined);
  /** The next public huddles of a cluster (published, or cancelled lately), as rows. */
  const upcomingOf = (cluster: Cluster, limit: number, theme?: string) => huddles.upcomingPublic(cluster.id, limit, theme);
  const clusterPage = (reply: FastifyReply, cluster: Cluster, theme: string | undefined, form: SignUpForm, status = 200) => {
    const upcoming = upcomingOf(cluster, 50, theme);
    return reply
      .code(status)
      .header('cache-control', status === 200 && form === EMPTY_SIGN_UP ? PUBLIC_CACHE : 'no-store')
      .html(<ClusterPage cluster={cluster} baseUrl={baseUrl} huddles={upcoming} theme={theme} form={form} />);
  };

  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    const all = clusters.list();
    if (all.length === 1) return reply.redirect(`/c/${all[0]!.slug}`, 302);
    return reply.header('cache-control', PUBLIC_CACHE).html(<HomePage clusters={all} />);
  });

  app.get('/c/:cluster', { schema: { hide: true } }, async (request, reply) => {
    const cluster = clusterOf((request.params as { cluster: string }).cluster);
    if (!cluster) return notFound(reply);
    const theme = (request.query as { theme?: unknown }).theme;
    const chosen = typeof theme === 'string' && cluster.themes.includes(theme) ? theme : undefined;
    return clusterPage(reply, cluster, chosen, EMPTY_SIGN_UP);
  });

  // The list of upcoming huddles for the cluster's own website to frame (only the origins it listed may).
  app.get('/c/:cluster/embed', { schema: { hide: true } }, async (request, reply) => {
    const cluster = clusterOf((request.params as { cluster: string }).cluster);
    if (!cluster) return notFound(reply);
    const upcoming = upcomingOf(cluster, 20);
    const csp = String(reply.getHeader('content-security-policy') ?? '').replace(
      /frame-ancestors [^;]*/,
      `frame-ancestors 'self'${cluster.websiteOrigins.map((origin) => ` ${origin}`).join('')}`,
    );
    reply.removeHeader('x-frame-options');
    return reply
      .header('content-security-policy', csp)
      .header('cache-control', PUBLIC_CACHE)
      .html(<EmbedPage cluster={cluster} huddles={upcoming} />);
  });

  // The sign-up form's target, from our page or the cluster's website: as the JSON sign-up does, it
  // answers the same whoever the address belongs to, and a filled-in honeypot is thanked and ignored.
  app.post(
    '/c/:cluster/subscribe',
    { schema: { hide: true }, config: { rateLimit: { max: app.config.formRateLimitPerMinute, timeWindow: 60_000 } } },
    async (request, reply) => {
      const cluster = clusterOf((request.params as { cluster: string }).cluster);
      if (!cluster) return notFound(reply);
      const email = (formField(request, 'email') ?? '').trim();
      const name = (formField(request, 'name') ?? '').trim();
      const topics = formFields(request, 'topics').filter((topic): topic is Topic => (TOPICS as string[]).includes(topic));
      const themes = formFields(request, 'themes').filter((theme) => cluster.themes.includes(theme));
      const form: SignUpForm = { email, name, topics, themes, errors: {} };
      if (topics.length === 0) form.errors.topics = messages.signUp.noTopic;
      const signUp = { email, topics, themes, ...(name ? { name } : {}) };
      if (!isEmailAddress(email)) form.errors.email = messages.signUp.invalidEmail;
      else subscribers.check(cluster, signUp);
      if (form.errors.email || form.errors.topics) return clusterPage(reply, cluster, undefined, form, 400);
      // The work happens after the answer is sent (as the JSON sign-up does), so its timing says nothing.
      if ((formField(request, 'website') ?? '') === '') {
        const context = { source: 'form' as const, ip: request.ip, userAgent: request.headers['user-agent'] ?? null };
        reply.raw.once('finish', () => {
          try {
            subscribers.signUp(cluster, signUp, context);
          } catch (error) {
            request.log.error({ err: error }, 'sign-up failed after the answer');
          }
        });
      }
      // A form on the cluster's own website may ask to go back there (an origin the cluster listed).
      const back = returnAddress(formField(request, 'return'), cluster.websiteOrigins);
      if (back) return reply.redirect(back, 303);
      return reply.header('cache-control', 'no-store').html(<SignUpSentPage cluster={cluster} email={email} />);
    },
  );

  /** The signed-in member of this request, whichever cluster they belong to. */
  function sessionOf(request: FastifyRequest): MemberPrincipal | null {
    const token = sessionToken(request);
    return token ? signIn.resolveToken(token, app.clock.now(), 'browser') : null;
  }

  /** The signed-in member of this request, if they belong to the huddle's cluster. */
  function viewerOf(request: FastifyRequest, huddle: Huddle): MemberPrincipal | null {
    const principal = sessionOf(request);
    return principal && principal.clusterId === huddle.clusterId ? principal : null;
  }

  /** A public huddle by its id in the address, or undefined (drafts, long-cancelled and unknown ones alike). */
  function publicHuddle(id: string): Huddle | undefined {
    const huddle = isId(id) ? huddles.find(id) : undefined;
    return huddle && isPublic(huddle, app.clock.now()) ? huddle : undefined;
  }

  function viewerData(huddle: Huddle, principal: MemberPrincipal, form: PitchForm): Viewer {
    const now = app.clock.now();
    const window = bookingWindow(huddle.startsAt, huddle);
    const bookingOpen = huddle.status === 'published' && (window.opensAt === null || now >= window.opensAt) && now < window.closesAt;
    const taken = bookings.takenSlotIds(huddle.id);
    const freeSlots = bookingOpen
      ? bookings
          .slots(huddle.id)
          .filter((slot) => !taken.has(slot.id))
          .map((slot) => ({ id: slot.id, label: `${m.huddle.slot(slot.position)}, ${dates.time(slot.startsAt, huddle.timezone)}` }))
      : [];
    const mine = bookings.forMember(principal.memberId).find(({ booking }) => booking.huddleId === huddle.id && isActiveBooking(booking));
    const attendance = registrations.forMember(principal.memberId).find((row) => row.huddle.id === huddle.id);
    return {
      name: principal.label,
      csrf: csrfToken(secretKey, principal.tokenId),
      freeSlots,
      bookingOpen,
      bookingOpensAt: window.opensAt && now < window.opensAt ? window.opensAt : null,
      bookingClosesAt: window.closesAt,
      myPitch: mine ? { title: mine.booking.title, status: mine.booking.status } : null,
      onWaitlist: waitlist.forMember(principal.memberId).some((place) => place.huddle.id === huddle.id),
      attendance: attendance ? { position: attendance.position } : undefined,
      form,
    };
  }

  function huddlePage(request: FastifyRequest, reply: FastifyReply, huddle: Huddle, form: PitchForm = EMPTY_PITCH, status = 200) {
    const cluster = clusters.getById(huddle.clusterId);
    const agenda = bookings.agenda(app.db, huddle.id).map(({ booking, slot, member }) => ({
      position: slot.position,
      startsAt: slot.startsAt,
      organisation: member.organisation,
      title: booking.title,
      summary: booking.summary,
    }));
    const session = sessionOf(request);
    const principal = session && session.clusterId === huddle.clusterId ? session : null;
    // A page with a member's forms (or name) is theirs alone; the public one may be cached for a minute.
    return reply
      .code(status)
      .header('cache-control', session ? 'private, no-store' : PUBLIC_CACHE)
      .html(
        <HuddlePage
          huddle={huddle}
          cluster={cluster}
          baseUrl={baseUrl}
          placesLeft={registrations.placesLeft(huddle)}
          agenda={agenda}
          now={app.clock.now()}
          viewer={principal ? viewerData(huddle, principal, form) : null}
          elsewhere={session && !principal ? session.label : null}
        />,
      );
  }

  app.get('/h/:id', { schema: { hide: true } }, async (request, reply) => {
    const huddle = publicHuddle((request.params as { id: string }).id);
    return huddle ? huddlePage(request, reply, huddle) : notFound(reply);
  });

  /** A signed-in member's form on a huddle page: session and CSRF checked, then `act`; errors shown beside the form. */
  function huddleAction(path: string, act: (huddle: Huddle, principal: MemberPrincipal, form: PitchForm) => string) {
    const errorAt = path.endsWith('/register') ? 'register' : 'pitch';
    app.post(path, { schema: { hide: true }, preHandler: sameSiteOnly }, async (request, reply) => {
      const huddle = publicHuddle((request.params as { id: string }).id);
      if (!huddle) return notFound(reply);
      const principal = viewerOf(request, huddle);
      if (!principal) return reply.redirect('/signin', 303);
      const form: PitchForm = {
        title: (formField(request, 'title') ?? '').trim(),
        summary: (formField(request, 'summary') ?? '').trim(),
        slotId: formField(request, 'slotId') ?? '',
        theme: formField(request, 'theme') ?? '',
        shareContact: formField(request, 'shareContact') === 'yes',
        error: null,
      };
      if (!csrfMatches(secretKey, principal.tokenId, formField(request, '_csrf'))) {
        return huddlePage(request, reply, huddle, { ...form, error: m.book.expired, errorAt }, 403);
      }
      try {
        return reply.redirect(`/me?done=${act(huddle, principal, form)}`, 303);
      } catch (error) {
        if (!isAppError(error) || error.statusCode >= 500) throw error;
        return huddlePage(request, reply, huddle, { ...form, error: problemInWords(error), errorAt }, error.statusCode);
      }
    });
  }

  const memberOf = (principal: MemberPrincipal) => members.byId(principal.memberId)!;
  const pitchOf = (form: PitchForm) => {
    if (form.title === '') throw problem('VALIDATION_FAILED', m.book.titleMissing);
    return { title: form.title.slice(0, 200), ...(form.summary ? { summary: form.summary.slice(0, 1000) } : {}) };
  };

  huddleAction('/h/:id/book', (huddle, principal, form) => {
    const member = memberOf(principal);
    // A second press of the button (or the back button) finds the pitch already booked: show it, do not book twice.
    const already = bookings.forMember(member.id).find(({ booking }) => booking.huddleId === huddle.id && isActiveBooking(booking));
    if (already) return already.booking.status === 'pending' ? 'pending' : 'booked';
    const booked = bookings.book(
      member.id,
      huddle.id,
      {
        ...pitchOf(form),
        ...(form.slotId ? { slotId: form.slotId } : {}),
        ...(form.theme ? { theme: form.theme } : {}),
        shareContact: form.shareContact,
      },
      webActor(principal),
    );
    return booked.booking.status === 'pending' ? 'pending' : 'booked';
  });
  huddleAction('/h/:id/waitlist', (huddle, principal, form) => {
    waitlist.join(memberOf(principal), huddle.id, pitchOf(form), webActor(principal));
    return 'joined';
  });
  huddleAction('/h/:id/register', (huddle, principal) => {
    const { position } = registrations.register(memberOf(principal), huddle.id, webActor(principal));
    return position === null ? 'registered' : 'waitlisted';
  });
};
