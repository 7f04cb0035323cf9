// The calendar feeds, with ETag and 304: a cluster's published huddles, one huddle's .ics, and a
// member's private feed (/v1/feeds/{feedToken}/calendar.ics: the token in the address is the only
// credential; POST /v1/me/calendar-feed/rotate kills the old address at once).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { problem } from '../../errors.js';
import { Id, Slug } from '../../lib/schema-types.js';
import { declareTag } from '../../plugins/openapi.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { HuddlesService } from '../huddles/huddles.service.js';
import type { MembersService } from '../members/members.service.js';
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
function sendCalendar(
  request: FastifyRequest,
  reply: FastifyReply,
  calendar: RenderedCalendar,
  file: { name: string; privacy?: 'public' | 'private' },
) {
  const privacy = file.privacy ?? 'public';
  reply
    .header('etag', calendar.etag)
    .header('last-modified', calendar.lastModified.toUTCString())
    .header('cache-control', `${privacy}, max-age=${Math.min(FEED_TTL_SECONDS, 300)}`);
  if (notModified(request, calendar)) return reply.code(304).send();
  return reply.type('text/calendar; charset=utf-8').header('content-disposition', `inline; filename="${file.name}"`).send(calendar.body);
}

export const feedsRoutes: FastifyPluginAsyncTypebox<{
  feeds: FeedsService;
  clusters: ClustersService;
  huddles: HuddlesService;
  members: MembersService;
}> = async (app, { feeds, clusters, huddles, members }) => {
  declareTag(app, { name: 'calendars', description: 'iCalendar feeds that calendar apps subscribe to' });

  app.get('/v1/clusters/:cluster/calendar.ics', {
    config: { errors: ['CLUSTER_NOT_FOUND'], auth: 'public' },
    schema: {
      operationId: 'getClusterCalendar',
      tags: ['calendars'],
      summary: "The cluster's public calendar: published huddles, and cancelled ones for 30 days",
      params: Type.Object({ cluster: Slug }),
      querystring: Type.Object(
        { theme: Type.Optional(Type.String({ maxLength: 40, pattern: '^[a-z0-9-]+$', description: 'Only huddles with this theme' })) },
        { additionalProperties: false },
      ),
      response: CalendarResponse,
    },
    handler: async (request, reply) => {
      const cluster = clusters.stamp(request.params.cluster);
      const feed = await feeds.clusterFeed(cluster, request.query.theme);
      return sendCalendar(request, reply, feed, { name: `${cluster.slug}.ics` });
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
      huddles.audience(huddle, null); // the public's view: a draft is "not found" to everyone here
      return sendCalendar(request, reply, feeds.huddleCalendar(huddle), { name: `huddle-${huddle.id}.ics` });
    },
  });

  app.get('/v1/feeds/:feedToken/calendar.ics', {
    config: { errors: ['FEED_NOT_FOUND'], auth: 'public' },
    schema: {
      operationId: 'getMemberCalendar',
      tags: ['calendars'],
      summary:
        "A member's private calendar: huddles they registered for and their pitch slots, with online links. The address is the credential.",
      params: Type.Object({
        feedToken: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$', description: 'The token from GET /v1/me' }),
      }),
      response: CalendarResponse,
    },
    handler: async (request, reply) => {
      const member = members.byFeedToken(request.params.feedToken);
      if (!member) throw problem('FEED_NOT_FOUND', 'There is no calendar at this address (it may have been changed)');
      return sendCalendar(request, reply, feeds.memberCalendar(member), { name: 'convene.ics', privacy: 'private' });
    },
  });
};
