// The public web pages, on the same services as the API: the instance's home (`/`), a cluster's page
// (`/c/{cluster}`, with the newsletter sign-up form), and a huddle's page (`/h/{huddleId}`). Every
// page is rendered on the server and works without JavaScript; the sign-up form also works when
// pasted on the cluster's own website.
import { fastifyKitaHtml } from '@kitajs/fastify-html-plugin';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Topic } from '../../db/schema.js';
import { isAppError } from '../../errors.js';
import { formField, formFields } from '../../lib/page.js';
import { isEmailAddress, SLUG } from '../../lib/text.js';
import { messages } from '../../shared/messages.js';
import { formBodies } from '../../plugins/bodies.js';
import type { BookingsService } from '../bookings/bookings.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { HuddlesService } from '../huddles/huddles.service.js';
import type { RegistrationsService } from '../registrations/registrations.service.js';
import type { SubscribersService } from '../subscribers/subscribers.service.js';
import { ClusterPage, EMPTY_SIGN_UP, HomePage, HuddlePage, NotFoundPage, SignUpSentPage, type SignUpForm } from './site.views.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOPICS = Object.keys(messages.signUp.topicNames) as Topic[];
/** Public pages change when a huddle does; a minute of caching spares the database, never a visitor. */
const PUBLIC_CACHE = 'public, max-age=60';

export interface SiteDeps {
  clusters: ClustersService;
  huddles: HuddlesService;
  bookings: BookingsService;
  registrations: RegistrationsService;
  subscribers: SubscribersService;
}

export const sitePages: FastifyPluginAsync<SiteDeps> = async (app, deps) => {
  const { clusters, huddles, bookings, registrations, subscribers } = deps;
  const baseUrl = app.config.publicBaseUrl;
  await app.register(fastifyKitaHtml);
  await app.register(formBodies, { bodyLimit: 4096 });

  const notFound = (reply: FastifyReply) =>
    reply
      .code(404)
      .header('cache-control', 'no-store')
      .html(<NotFoundPage />);
  const clusterOf = (slug: unknown) => {
    if (typeof slug !== 'string' || !SLUG.test(slug)) return undefined;
    try {
      return clusters.get(slug);
    } catch (error) {
      if (isAppError(error)) return undefined;
      throw error;
    }
  };
  const clusterPage = (reply: FastifyReply, slug: string, theme: string | undefined, form: SignUpForm, status = 200) => {
    const cluster = clusters.get(slug);
    const page = huddles.list(cluster.id, { limit: 50, ...(theme ? { theme } : {}) }, 'public');
    const rows = huddles.getMany(
      app.db,
      page.items.map((item) => item.id),
    );
    const upcoming = page.items.flatMap((item) => rows.get(item.id) ?? []);
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
    return clusterPage(reply, cluster.slug, chosen, EMPTY_SIGN_UP);
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
      const form: SignUpForm = { email, name, topics, errors: {} };
      if (topics.length === 0) form.errors.topics = messages.signUp.noTopic;
      const signUp = { email, topics, ...(name ? { name } : {}) };
      if (!isEmailAddress(email)) form.errors.email = messages.signUp.invalidEmail;
      else subscribers.check(cluster, signUp);
      if (form.errors.email || form.errors.topics) return clusterPage(reply, cluster.slug, undefined, form, 400);
      if ((formField(request, 'website') ?? '') === '') {
        subscribers.signUp(cluster, signUp, { source: 'form', ip: request.ip, userAgent: request.headers['user-agent'] ?? null });
      }
      return reply.header('cache-control', 'no-store').html(<SignUpSentPage cluster={cluster} email={email} />);
    },
  );

  app.get('/h/:id', { schema: { hide: true } }, async (request, reply) => {
    const id = (request.params as { id: string }).id;
    const huddle = UUID.test(id) ? huddles.find(id) : undefined;
    if (!huddle) return notFound(reply);
    try {
      huddles.audience(huddle, null);
    } catch (error) {
      if (isAppError(error)) return notFound(reply);
      throw error;
    }
    const cluster = clusters.getById(huddle.clusterId);
    const agenda = bookings.agenda(app.db, huddle.id).map(({ booking, slot, member }) => ({
      position: slot.position,
      startsAt: slot.startsAt,
      organisation: member.organisation,
      title: booking.title,
    }));
    return reply
      .header('cache-control', PUBLIC_CACHE)
      .html(
        <HuddlePage
          huddle={huddle}
          cluster={cluster}
          baseUrl={baseUrl}
          placesLeft={registrations.placesLeft(huddle)}
          agenda={agenda}
          now={app.clock.now()}
        />,
      );
  });
};
