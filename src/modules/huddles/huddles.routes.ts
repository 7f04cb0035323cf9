// Huddles over HTTP: organisers create, edit and cancel; everyone reads published ones.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { actorOf, organiserOf } from '../../plugins/auth.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import {
  CancelBody,
  ClusterParams,
  HuddleCreate,
  HuddleListQuery,
  HuddlePage,
  HuddleParams,
  HuddlePatch,
  HuddlePatchQuery,
  HuddleScope,
  HuddleView,
  SeriesCreate,
  SeriesView,
  SlotList,
} from './huddles.schemas.js';
import type { HuddleStamp, HuddlesService } from './huddles.service.js';
import { huddleView, slotView, type Huddle } from './huddles.view.js';
import { createViewCache, sendJson } from './huddles.view-cache.js';
import { problem } from '../../errors.js';
import { bookingWindow } from './huddles.settings.js';

export const huddlesRoutes: FastifyPluginAsyncTypebox<{ huddles: HuddlesService; clusters: ClustersService }> = async (app, { huddles, clusters }) => {
  const baseUrl = app.config.publicBaseUrl;
  const organiserView = (huddle: Huddle, slug: string) => huddleView(huddle, slug, baseUrl, 'organiser');
  const views = createViewCache();
  /** Compiled once by Fastify (per schema object), as it compiles the routes' response schemas. */
  const viewSchema = HuddleView as unknown as Record<string, unknown>;

  /** A huddle's view serialised with its schema: kept per row version, shaped and serialised only when it changed. */
  function viewBody(reply: FastifyReply, row: Pick<Huddle, 'id' | 'version'>, audience: 'public' | 'organiser', clusterSlug?: string): string {
    return views.get(`${audience}:${row.id}`, row.version) ?? serialiseView(reply, huddles.get(row.id), audience, clusterSlug);
  }

  function serialiseView(reply: FastifyReply, huddle: Huddle, audience: 'public' | 'organiser', clusterSlug?: string): string {
    const view = huddleView(huddle, clusterSlug ?? clusters.getById(huddle.clusterId).slug, baseUrl, audience);
    const body = reply.serializeInput(view, viewSchema);
    views.set(`${audience}:${huddle.id}`, huddle.version, body);
    return body;
  }

  /** The views of a page of huddles; the ones not kept are read in one query. */
  function viewBodies(reply: FastifyReply, rows: Pick<Huddle, 'id' | 'version'>[], audience: 'public' | 'organiser', clusterSlug: string): string[] {
    const bodies = rows.map((row) => views.get(`${audience}:${row.id}`, row.version));
    const missing = rows.filter((_row, i) => bodies[i] === undefined).map((row) => row.id);
    if (missing.length === 0) return bodies as string[];
    const read = new Map(huddles.getMany(missing).map((huddle) => [huddle.id, huddle]));
    return rows.map((row, i) => bodies[i] ?? serialiseView(reply, read.get(row.id) ?? huddles.get(row.id), audience, clusterSlug));
  }

  /** Who sees a huddle: its own cluster's organisers, or the public, who see published ones only (drafts are "not found"). */
  function audienceOf(request: FastifyRequest, huddle: HuddleStamp): 'organiser' | 'public' {
    const principal = request.principal;
    if (principal?.kind === 'organiser' && principal.clusterId === huddle.clusterId) return 'organiser';
    if (!huddles.isPublic(huddle, app.clock.now())) throw problem('HUDDLE_NOT_FOUND', `There is no huddle ${huddle.id}`);
    return 'public';
  }

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
      const { series, huddles: rows } = huddles.createSeries(cluster, request.body, actorOf(request));
      return reply.code(201).send({ id: series.id, rrule: series.rrule, timezone: series.timezone, huddles: rows.map((h) => organiserView(h, cluster.slug)) });
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
      const audience = request.principal?.kind === 'organiser' ? 'organiser' : 'public';
      const { rows, nextCursor } = huddles.list(cluster.id, request.query, audience);
      const items = viewBodies(reply, rows, audience, cluster.slug);
      return sendJson(reply, `{"items":[${items.join(',')}],"nextCursor":${JSON.stringify(nextCursor)}}`);
    },
  });

  app.get('/v1/huddles/:id', {
    config: { errors: ['HUDDLE_NOT_FOUND'], auth: { optional: ['organiser'] } },
    schema: { operationId: 'getHuddle', tags: ['huddles'], summary: 'Get one huddle', params: HuddleParams, response: { 200: HuddleView } },
    handler: async (request, reply) => {
      const stamp = huddles.stamp(request.params.id);
      return sendJson(reply, viewBody(reply, stamp, audienceOf(request, stamp)));
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
      const huddle = huddles.update(request.params.id, cluster, request.body, request.query.scope ?? 'this', actorOf(request), request.query.bookings ?? 'refuse');
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
      const huddle = huddles.cancel(request.params.id, cluster, request.body.reason, request.query.scope ?? 'this', actorOf(request));
      return organiserView(huddle, cluster.slug);
    },
  });

  app.get('/v1/huddles/:id/slots', {
    config: { errors: ['HUDDLE_NOT_FOUND'], auth: { optional: ['organiser'] } },
    schema: { operationId: 'listSlots', tags: ['huddles'], summary: 'List a huddle\'s pitch slots in order', params: HuddleParams, response: { 200: SlotList } },
    handler: async (request) => {
      const huddle = huddles.get(request.params.id);
      audienceOf(request, huddle); // "not found" unless the caller may see it
      const taken = huddles.takenSlotIds(huddle.id);
      const window = bookingWindow(huddle.startsAt, huddle);
      const now = app.clock.now();
      const open = huddle.status === 'published' && (window.opensAt === null || now >= window.opensAt) && now < window.closesAt;
      return { items: huddles.slots(huddle.id).map((slot) => slotView(slot, huddle.timezone, open && !taken.has(slot.id))) };
    },
  });
};
