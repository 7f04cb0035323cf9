// The newsletter over HTTP: the public sign-up (always 202), and the organisers' subscriber list, export and erasure.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { TOPICS, type Cluster } from '../../db/schema.js';
import { problem } from '../../errors.js';
import { jsonOrCsv, wantsCsv } from '../../lib/csv.js';
import { CursorQuery, Id, Line, Page, Slug } from '../../lib/schema-types.js';
import { isEmailAddress, normaliseEmail } from '../../lib/text.js';
import { actorOf, organiserOf } from '../../plugins/auth.js';
import { declareTag } from '../../plugins/openapi.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { SubscribersService } from './subscribers.service.js';
import { exportView, subscribersCsv, subscriberView, suppressionView } from './subscribers.view.js';

const Topic = Type.Union(
  TOPICS.map((topic) => Type.Literal(topic)),
  { description: 'newsletter, huddle-invites or pitch-digest' },
);
const Status = Type.Union([Type.Literal('pending'), Type.Literal('confirmed'), Type.Literal('unsubscribed')]);

const SignUpBody = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 320, description: 'Email address; case and surrounding spaces do not matter' }),
    name: Type.Optional(Type.String({ maxLength: 200, description: 'Name to greet you by' })),
    topics: Type.Optional(Type.Array(Topic, { maxItems: 3, description: 'What to receive; the newsletter when left out' })),
    themes: Type.Optional(
      Type.Array(Type.String({ maxLength: 40 }), {
        maxItems: 30,
        description: "Only these themes (from the cluster's); all when left out",
      }),
    ),
    website: Type.Optional(Type.String({ maxLength: 200, description: 'Leave empty: a trap for robots filling every field' })),
  },
  { additionalProperties: false },
);

const Accepted = Type.Object({
  status: Type.Literal('pending-confirmation'),
  detail: Type.String({ description: 'What happens next' }),
});

const SubscriberView = Type.Object({
  id: Id,
  email: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  status: Type.String({ description: 'pending (not confirmed: receives nothing), confirmed or unsubscribed' }),
  topics: Type.Array(Type.String()),
  themes: Type.Array(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  confirmedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  unsubscribedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const ExportView = Type.Object({
  subscriber: SubscriberView,
  consent: Type.Array(
    Type.Object({
      kind: Type.String({ description: 'requested, confirmed, preferences-changed or unsubscribed' }),
      source: Type.String({ description: 'form, api, import, organiser, email-link or one-click' }),
      wordingVersion: Type.String({ description: 'Version of the consent wording shown' }),
      topics: Type.Union([Type.Array(Type.String()), Type.Null()]),
      ip: Type.Union([Type.String(), Type.Null()]),
      userAgent: Type.Union([Type.String(), Type.Null()]),
      at: Type.String({ format: 'date-time' }),
    }),
  ),
  deliveries: Type.Array(
    Type.Object({
      campaignId: Id,
      status: Type.String({ description: 'pending, queued, sending, sent, failed or skipped' }),
      sentAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    }),
    { description: 'Newsletters addressed to this person' },
  ),
});

const SuppressionView = Type.Object({
  email: Type.Union([Type.String(), Type.Null()], { description: 'The address; null once erased (only its hash is kept)' }),
  scope: Type.String({ description: 'cluster (this cluster only: an erasure) or everywhere (every cluster: a bounce or complaint)' }),
  reason: Type.String({ description: 'erased, bounced (for good), soft-bounced (too often) or complained (reported as spam)' }),
  detail: Type.Union([Type.String(), Type.Null()], { description: 'What the mail server or the report said' }),
  createdAt: Type.String({ format: 'date-time' }),
});

export const ACCEPTED_DETAIL = 'Check your inbox: we have sent a link to confirm. Nothing else is sent until you do.';

export const subscribersRoutes: FastifyPluginAsyncTypebox<{ subscribers: SubscribersService; clusters: ClustersService }> = async (
  app,
  { subscribers, clusters },
) => {
  declareTag(app, { name: 'newsletter', description: 'Sign-ups, subscribers and campaigns' });
  /** An organiser's subscriber, addressed by id: another cluster's is "not found". */
  function owned(request: Parameters<typeof organiserOf>[0], id: string) {
    const organiser = organiserOf(request);
    if (subscribers.clusterOf(id) !== organiser.clusterId) throw problem('SUBSCRIBER_NOT_FOUND', `There is no subscriber ${id}`);
    return subscribers.get(clusters.getById(organiser.clusterId), id);
  }

  // A cluster's own website may post the JSON sign-up from its pages' scripts (CORS), if the cluster
  // lists its origin in websiteOrigins; any other origin gets no CORS headers, so browsers refuse.
  const allowedOrigin = (request: FastifyRequest): string | null => {
    const origin = request.headers.origin;
    const slug = (request.params as { cluster?: unknown }).cluster;
    if (typeof origin !== 'string' || typeof slug !== 'string') return null;
    const cluster = clusters.find(slug);
    return cluster?.websiteOrigins.includes(origin) ? origin : null;
  };
  app.options('/v1/clusters/:cluster/subscriptions', { schema: { hide: true }, config: { auth: 'public' } }, async (request, reply) => {
    const origin = allowedOrigin(request);
    reply.header('vary', 'Origin');
    if (origin) {
      reply
        .header('access-control-allow-origin', origin)
        .header('access-control-allow-methods', 'POST')
        .header('access-control-allow-headers', 'Content-Type')
        .header('access-control-max-age', '600');
    }
    return reply.code(204).send();
  });

  // The cluster the handler read, for the sign-up that runs once the 202 is sent (read once per request).
  const signingUp = new WeakMap<FastifyRequest, Cluster>();
  app.post('/v1/clusters/:cluster/subscriptions', {
    onSend: async (request, reply) => {
      const origin = allowedOrigin(request);
      reply.header('vary', 'Origin');
      if (origin) reply.header('access-control-allow-origin', origin);
    },
    config: { errors: ['CLUSTER_NOT_FOUND'], auth: 'public', rateLimit: { max: app.config.formRateLimitPerMinute, timeWindow: 60_000 } },
    schema: {
      operationId: 'subscribe',
      tags: ['newsletter'],
      summary: "Sign up for a cluster's emails (double opt-in). Always 202 with the same body, whoever the address belongs to.",
      params: Type.Object({ cluster: Slug }),
      body: SignUpBody,
      response: { 202: Accepted },
    },
    handler: async (request, reply) => {
      const cluster = clusters.get(request.params.cluster);
      signingUp.set(request, cluster);
      if (!isEmailAddress(normaliseEmail(request.body.email))) {
        throw problem('VALIDATION_FAILED', 'email is not an email address', {
          errors: [{ field: 'body/email', message: 'is not an email address' }],
        });
      }
      subscribers.check(cluster, request.body);
      reply.code(202);
      return { status: 'pending-confirmation' as const, detail: ACCEPTED_DETAIL };
    },
    // The work happens after the answer is sent, so neither the body nor the timing says who is subscribed.
    onResponse: async (request, reply) => {
      if (reply.statusCode !== 202 || (request.body.website ?? '') !== '') return;
      const cluster = signingUp.get(request);
      if (!cluster) return;
      try {
        subscribers.signUp(cluster, request.body, { source: 'api', ip: request.ip, userAgent: request.headers['user-agent'] ?? null });
      } catch (error) {
        request.log.error({ err: error }, 'sign-up failed after the 202');
      }
    },
  });

  app.get('/v1/clusters/:cluster/subscribers', {
    config: { errors: ['CLUSTER_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'listSubscribers',
      tags: ['newsletter'],
      summary: 'List subscribers by status and topic, as JSON pages or (Accept: text/csv) one CSV',
      params: Type.Object({ cluster: Slug }),
      querystring: Type.Object(
        {
          status: Type.Optional(Status),
          topic: Type.Optional(Topic),
          q: Type.Optional(Line({ description: 'Only subscribers whose address or name contains this (any case)', maxLength: 200 })),
          ...CursorQuery,
        },
        { additionalProperties: false },
      ),
      response: { 200: jsonOrCsv(Page(SubscriberView), 'The subscribers') },
    },
    handler: async (request, reply) => {
      const cluster = clusters.get(request.params.cluster);
      const { status, topic, q, cursor, limit } = request.query;
      if (wantsCsv(request.headers.accept)) {
        const rows = subscribers.list(cluster, { status, topic, search: q?.trim(), limit: 1_000_000 }).items;
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="subscribers-${cluster.slug}.csv"`)
          .send(subscribersCsv(rows));
      }
      const page = subscribers.list(cluster, { status, topic, search: q?.trim(), cursor, limit: limit ?? 50 });
      return { items: page.items.map(subscriberView), nextCursor: page.nextCursor };
    },
  });

  app.get('/v1/subscribers/:id/export', {
    config: { errors: ['SUBSCRIBER_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'exportSubscriber',
      tags: ['newsletter'],
      summary: 'Everything held about one subscriber, with their consent record',
      params: Type.Object({ id: Id }),
      response: { 200: ExportView },
    },
    handler: async (request, reply) => {
      return reply.header('cache-control', 'no-store').send(exportView(subscribers.export(owned(request, request.params.id))));
    },
  });

  app.post('/v1/subscribers/:id/unsubscribe', {
    config: { errors: ['SUBSCRIBER_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'unsubscribeSubscriber',
      tags: ['newsletter'],
      summary:
        'Unsubscribe someone who asked by phone or email: they receive nothing more, and their record and consent history ' +
        'are kept (idempotent)',
      params: Type.Object({ id: Id }),
      response: { 200: SubscriberView },
    },
    handler: async (request) => {
      const subscriber = owned(request, request.params.id);
      return subscriberView(subscribers.unsubscribe(subscriber, { source: 'organiser' }, actorOf(request)));
    },
  });

  app.delete('/v1/subscribers/:id', {
    config: { errors: ['SUBSCRIBER_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'eraseSubscriber',
      tags: ['newsletter'],
      summary: 'Erase a subscriber: their data is deleted and the address, kept only as a hash, is never mailed again',
      params: Type.Object({ id: Id }),
      response: { 204: Type.Null({ description: 'Erased' }) },
    },
    handler: async (request, reply) => {
      subscribers.erase(owned(request, request.params.id), { source: 'organiser' }, actorOf(request));
      return reply.code(204).send(null);
    },
  });

  app.get('/v1/clusters/:cluster/suppressions', {
    config: { errors: ['CLUSTER_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'listSuppressions',
      tags: ['newsletter'],
      summary:
        "Addresses never mailed: this cluster's erasures, and the bounces and complaints (suppressed in every cluster) of " +
        'its subscribers, newest first, with the reason',
      params: Type.Object({ cluster: Slug }),
      response: { 200: Type.Object({ items: Type.Array(SuppressionView) }) },
    },
    handler: async (request) => {
      const cluster = clusters.get(request.params.cluster);
      return { items: subscribers.suppressions(cluster).map(suppressionView) };
    },
  });

  app.post('/v1/clusters/:cluster/suppressions/lift', {
    config: { errors: ['CLUSTER_NOT_FOUND', 'SUPPRESSION_NOT_FOUND', 'SUPPRESSION_ERASED'], auth: ['organiser'] },
    schema: {
      operationId: 'liftSuppression',
      tags: ['newsletter'],
      summary:
        'Mail an address again (a bounce or complaint suppression lifts in every cluster): say why in the note, which the ' +
        'audit log keeps. An erased address stays suppressed.',
      params: Type.Object({ cluster: Slug }),
      body: Type.Object(
        {
          email: Type.String({ minLength: 3, maxLength: 320, description: 'The suppressed address' }),
          note: Type.String({ minLength: 3, maxLength: 500, description: 'Why it may be mailed again (kept in the audit log)' }),
        },
        { additionalProperties: false },
      ),
      response: { 200: SuppressionView },
    },
    handler: async (request) => {
      const cluster = clusters.get(request.params.cluster);
      const note = request.body.note.trim();
      if (note.length < 3)
        throw problem('VALIDATION_FAILED', 'note says nothing', { errors: [{ field: 'body/note', message: 'is blank' }] });
      return suppressionView(subscribers.liftSuppression(cluster, request.body.email, note, actorOf(request)));
    },
  });
};
