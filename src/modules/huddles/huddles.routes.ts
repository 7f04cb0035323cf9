// Huddles over HTTP: organisers create, edit and cancel; everyone reads published ones.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { actorOf, organiserOf } from '../../plugins/auth.js';
import { declareTag } from '../../plugins/openapi.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import { ClusterParams } from '../clusters/clusters.schemas.js';
import {
  CancelBody,
  HuddleCreate,
  HuddleListQuery,
  HuddlePage,
  HuddleParams,
  HuddlePatch,
  HuddlePatchQuery,
  HuddleScope,
  HuddleView,
  SeriesCreate,
  SeriesPreview,
  SeriesView,
} from './huddles.schemas.js';
import type { Huddle, HuddlesService } from './huddles.service.js';
import { zoned } from './huddles.time.js';
import { huddleView } from './huddles.view.js';
import { createHuddleViews } from './huddles.view-cache.js';

/** Sends JSON that is already serialised (with the route's schema): Fastify sends a string as it is. */
function sendJson(reply: FastifyReply, body: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(body as never);
}

export const huddlesRoutes: FastifyPluginAsyncTypebox<{ huddles: HuddlesService; clusters: ClustersService }> = async (
  app,
  { huddles, clusters },
) => {
  declareTag(app, { name: 'huddles', description: 'Huddles, series and pitch slots' });
  /** The answer to an organiser's change: their view, and a notice when the huddle starts in the past. */
  const organiserView = (huddle: Huddle, slug: string) => {
    const view = huddleView(huddle, slug, app.config.publicBaseUrl, 'organiser');
    if (huddle.status === 'cancelled' || huddle.startsAt.getTime() > app.clock.now().getTime()) return view;
    const message =
      `This huddle starts at ${huddle.startsAt.toISOString()}, which is in the past. ` +
      'It is kept as a record; if that is not what you meant, change its start.';
    return { ...view, notices: [{ code: 'HUDDLE_IN_PAST' as const, message }] };
  };
  // The JSON views this server sends, kept per row version (the command line, which sends none, never builds them).
  const views = createHuddleViews({
    read: { one: huddles.get, many: (ids) => huddles.getMany(app.db, ids) },
    clusters,
    baseUrl: app.config.publicBaseUrl,
  });

  app.post('/v1/clusters/:cluster/huddles', {
    config: { errors: ['CLUSTER_NOT_FOUND', 'NONEXISTENT_LOCAL_TIME'], auth: ['organiser'] },
    schema: {
      operationId: 'createHuddle',
      tags: ['huddles'],
      summary: 'Create a huddle',
      params: ClusterParams,
      body: HuddleCreate,
      response: { 201: HuddleView },
    },
    handler: async (request, reply) => {
      const cluster = clusters.get(request.params.cluster);
      const huddle = huddles.create(cluster, request.body, actorOf(request));
      return reply.code(201).header('location', `/v1/huddles/${huddle.id}`).send(organiserView(huddle, cluster.slug));
    },
  });

  app.post('/v1/clusters/:cluster/huddle-series', {
    config: { errors: ['CLUSTER_NOT_FOUND', 'NONEXISTENT_LOCAL_TIME', 'INVALID_RECURRENCE', 'SERIES_TOO_LONG'], auth: ['organiser'] },
    schema: {
      operationId: 'createHuddleSeries',
      tags: ['huddles'],
      summary: 'Create a series of huddles from an RRULE; each occurrence is an independent huddle (at most 100)',
      params: ClusterParams,
      body: SeriesCreate,
      response: { 201: SeriesView },
    },
    handler: async (request, reply) => {
      const cluster = clusters.get(request.params.cluster);
      const { series, huddles: rows, adjustments } = huddles.createSeries(cluster, request.body, actorOf(request));
      return reply.code(201).send({
        id: series.id,
        rrule: series.rrule,
        timezone: series.timezone,
        huddles: rows.map((h) => organiserView(h, cluster.slug)),
        adjustments,
      });
    },
  });

  app.post('/v1/clusters/:cluster/huddle-series/preview', {
    config: { errors: ['CLUSTER_NOT_FOUND', 'NONEXISTENT_LOCAL_TIME', 'INVALID_RECURRENCE', 'SERIES_TOO_LONG'], auth: ['organiser'] },
    schema: {
      operationId: 'previewHuddleSeries',
      tags: ['huddles'],
      summary: 'What creating this series would make, without making it: every occurrence, and those moved by a clock change or left out',
      params: ClusterParams,
      body: SeriesCreate,
      response: { 200: SeriesPreview },
    },
    handler: async (request) => {
      const cluster = clusters.get(request.params.cluster);
      const preview = huddles.previewSeries(cluster, request.body);
      const durationMs = request.body.template.durationMinutes * 60_000;
      return {
        timezone: preview.timezone,
        occurrences: preview.starts.map((start) => ({
          start: zoned(start, preview.timezone),
          end: zoned(start.getTime() + durationMs, preview.timezone),
        })),
        adjustments: preview.adjustments,
      };
    },
  });

  app.get('/v1/clusters/:cluster/huddles', {
    config: { errors: ['CLUSTER_NOT_FOUND'], auth: { optional: ['organiser'] } },
    schema: {
      operationId: 'listHuddles',
      tags: ['huddles'],
      summary: 'List huddles by start time (the public sees published ones and those cancelled in the last 30 days)',
      params: ClusterParams,
      querystring: HuddleListQuery,
      response: { 200: HuddlePage },
    },
    handler: async (request, reply) => {
      const cluster = clusters.get(request.params.cluster);
      // The auth guard kept only an organiser of this cluster.
      const audience = request.principal?.kind === 'organiser' ? 'organiser' : 'public';
      const page = huddles.list(cluster.id, request.query, audience);
      const items = views.many(page.items, audience, cluster.slug);
      return sendJson(reply, `{"items":[${items.join(',')}],"nextCursor":${JSON.stringify(page.nextCursor)}}`);
    },
  });

  app.get('/v1/huddles/:id', {
    config: { errors: ['HUDDLE_NOT_FOUND'], auth: { optional: ['organiser'] } },
    schema: { operationId: 'getHuddle', tags: ['huddles'], summary: 'Get one huddle', params: HuddleParams, response: { 200: HuddleView } },
    handler: async (request, reply) => {
      const stamp = huddles.stamp(request.params.id);
      return sendJson(reply, views.one(stamp, huddles.audience(stamp, request.principal)));
    },
  });

  app.patch('/v1/huddles/:id', {
    config: { errors: ['HUDDLE_NOT_FOUND', 'HUDDLE_CANCELLED', 'NONEXISTENT_LOCAL_TIME', 'BOOKINGS_AFFECTED'], auth: ['organiser'] },
    schema: {
      operationId: 'updateHuddle',
      tags: ['huddles'],
      summary: 'Edit or publish a huddle; a change of time or place notifies everyone invited',
      params: HuddleParams,
      querystring: HuddlePatchQuery,
      body: HuddlePatch,
      response: { 200: HuddleView },
    },
    handler: async (request) => {
      const cluster = clusters.get(organiserOf(request).clusterSlug);
      const huddle = huddles.update({
        huddleId: request.params.id,
        cluster,
        body: request.body,
        scope: request.query.scope ?? 'this',
        actor: actorOf(request),
        bookings: request.query.bookings ?? 'refuse',
      });
      return organiserView(huddle, cluster.slug);
    },
  });

  app.post('/v1/huddles/:id/cancel', {
    config: { errors: ['HUDDLE_NOT_FOUND', 'HUDDLE_CANCELLED'], auth: ['organiser'] },
    schema: {
      operationId: 'cancelHuddle',
      tags: ['huddles'],
      summary: 'Cancel a huddle with a reason; everyone invited gets a calendar cancellation',
      params: HuddleParams,
      querystring: HuddleScope,
      body: CancelBody,
      response: { 200: HuddleView },
    },
    handler: async (request) => {
      const cluster = clusters.get(organiserOf(request).clusterSlug);
      const huddle = huddles.cancel({
        huddleId: request.params.id,
        cluster,
        reason: request.body.reason,
        scope: request.query.scope ?? 'this',
        actor: actorOf(request),
      });
      return organiserView(huddle, cluster.slug);
    },
  });
};
