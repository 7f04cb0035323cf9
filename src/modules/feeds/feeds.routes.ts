// The public calendar feeds: a cluster's published huddles, and one huddle's .ics, with ETag and 304.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { problem } from '../../errors.js';
import { Id, Slug } from '../../lib/schema-types.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { HuddlesService } from '../huddles/huddles.service.js';
import { FEED_TTL_SECONDS, type FeedsService, type RenderedCalendar } from './feeds.service.js';

const CalendarResponse = {
  200: { description: 'An iCalendar file (RFC 5545)', content: { 'text/calendar': { schema: { type: 'string' } } } },
  304: { description: 'Not modified since the ETag or date the client has', type: 'null' },
};

function notModified(request: FastifyRequest, calendar: RenderedCalendar): boolean {
  const match = request.headers['if-none-match'];
  if (match !== undefined) return match.split(',').some((tag) => tag.trim().replace(/^W\//, '') === calendar.etag);
  const since = request.headers['if-modified-since'];
  if (since === undefined) return false;
  const date = Date.parse(since);
  return !Number.isNaN(date) && calendar.lastModified.getTime() <= date;
}

/** Answers a calendar with caching headers; the body is not sent when the client's copy is current. */
export function sendCalendar(request: FastifyRequest, reply: FastifyReply, calendar: RenderedCalendar, filename: string, privacy: 'public' | 'private' = 'public') {
  reply
    .header('etag', calendar.etag)
    .header('last-modified', calendar.lastModified.toUTCString())
    .header('cache-control', `${privacy}, max-age=${Math.min(FEED_TTL_SECONDS, 300)}`);
  if (notModified(request, calendar)) return reply.code(304).send();
  return reply.type('text/calendar; charset=utf-8').header('content-disposition', `inline; filename="${filename}"`).send(calendar.body);
}

export const feedsRoutes: FastifyPluginAsyncTypebox<{ feeds: FeedsService; clusters: ClustersService; huddles: HuddlesService }> = async (
  app,
  { feeds, clusters, huddles },
) => {
  app.get('/v1/clusters/:cluster/calendar.ics', {
    config: { errors: ['CLUSTER_NOT_FOUND'], auth: 'public' },
    schema: {
      operationId: 'getClusterCalendar',
      tags: ['calendars'],
      summary: 'The cluster\'s public calendar: published huddles, and cancelled ones for 30 days',
      params: Type.Object({ cluster: Slug }),
      querystring: Type.Object(
        { theme: Type.Optional(Type.String({ maxLength: 40, pattern: '^[a-z0-9-]+$', description: 'Only huddles with this theme' })) },
        { additionalProperties: false },
      ),
      response: CalendarResponse,
    },
    handler: async (request, reply) => {
      const cluster = clusters.stamp(request.params.cluster);
      const feed = await feeds.clusterFeed(cluster, request.query.theme, () => clusters.getById(cluster.id));
      return sendCalendar(request, reply, feed, `${cluster.slug}.ics`);
    },
  });

  app.get('/v1/huddles/:id/calendar.ics', {
    config: { errors: ['HUDDLE_NOT_FOUND'], auth: 'public' },
    schema: {
      operationId: 'getHuddleCalendar',
      tags: ['calendars'],
      summary: 'One published huddle as a calendar file',
      params: Type.Object({ id: Id }),
      response: CalendarResponse,
    },
    handler: async (request, reply) => {
      const huddle = huddles.get(request.params.id);
      if (!huddles.isPublic(huddle, app.clock.now())) throw problem('HUDDLE_NOT_FOUND', `There is no huddle ${request.params.id}`);
      return sendCalendar(request, reply, feeds.huddleCalendar(clusters.getById(huddle.clusterId), huddle), `huddle-${huddle.id}.ics`);
    },
  });
};
