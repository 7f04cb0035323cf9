// A member's private feed, /v1/feeds/{feedToken}/calendar.ics: the huddles they registered for and their pitch slots (with the online
// link public feeds never show). The token in the address is the only credential; rotating it
// (POST /v1/me/calendar-feed/rotate) kills the old address at once.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { problem } from '../../errors.js';
import type { BookingsService } from '../bookings/bookings.service.js';
import { renderPitchEvent } from '../bookings/bookings.render.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { MembersService } from '../members/members.service.js';
import { renderCalendar, renderEvent } from './feeds.render.js';
import type { RegistrationsService } from '../registrations/registrations.service.js';
import { sendCalendar } from './feeds.routes.js';
import { eventContext, etagOf, FEED_TTL_SECONDS } from './feeds.service.js';

const DAY_MS = 86_400_000;
/** Cancelled pitches stay in the feed this long as STATUS:CANCELLED, so subscribed calendars drop them. */
const CANCELLED_KEPT_MS = 30 * DAY_MS;
const PAST_MS = 31 * DAY_MS;

export const memberFeedRoutes: FastifyPluginAsyncTypebox<{ members: MembersService; bookings: BookingsService; registrations: RegistrationsService; clusters: ClustersService }> = async (
  app,
  { members, bookings, registrations, clusters },
) => {
  app.get('/v1/feeds/:feedToken/calendar.ics', {
    config: { errors: ['FEED_NOT_FOUND'], auth: 'public' },
    schema: {
      operationId: 'getMemberCalendar',
      tags: ['calendars'],
      summary: 'A member\'s private calendar: huddles they registered for and their pitch slots, with online links. The address is the credential.',
      params: Type.Object({ feedToken: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$', description: 'The token from GET /v1/me' }) }),
      response: {
        200: { description: 'An iCalendar file (RFC 5545)', content: { 'text/calendar': { schema: { type: 'string' } } } },
        304: { description: 'Not modified since the ETag or date the client has', type: 'null' },
      },
    },
    handler: async (request, reply) => {
      const member = members.byFeedToken(request.params.feedToken);
      if (!member) throw problem('FEED_NOT_FOUND', 'There is no calendar at this address (it may have been changed)');
      const cluster = clusters.getById(member.clusterId);
      const now = app.clock.now().getTime();
      const context = eventContext(cluster, app.config.publicBaseUrl, app.config.mailFrom);
      const rows = bookings
        .forMember(member.id, { since: new Date(now - PAST_MS) })
        .filter(({ booking }) => booking.status === 'confirmed' || (booking.status === 'cancelled' && booking.cancelledAt !== null && now - booking.cancelledAt.getTime() <= CANCELLED_KEPT_MS));
      const attending = registrations.forMember(member.id).filter(({ registration, huddle }) => registration.status === 'registered' && huddle.startsAt.getTime() > now - PAST_MS && huddle.status !== 'draft');
      // DTSTAMP is each item's last change, so the text (and its ETag) only changes when one does.
      const events = [
        ...attending.map(({ huddle }) => renderEvent(huddle, context, { audience: 'private', stamp: huddle.updatedAt })),
        ...rows.map(({ booking, slot, huddle }) => renderPitchEvent(booking, slot, huddle, context, { stamp: booking.updatedAt })),
      ];
      const body = renderCalendar({ name: `${cluster.name}: ${member.name}`, ttlSeconds: FEED_TTL_SECONDS, method: 'PUBLISH' }, events);
      const changed = [...rows, ...attending.map(({ huddle, registration }) => ({ booking: registration, huddle }))].reduce((latest, { booking, huddle }) => Math.max(latest, booking.updatedAt.getTime(), huddle.updatedAt.getTime()), member.updatedAt.getTime());
      return sendCalendar(request, reply, { body, etag: etagOf(body), lastModified: new Date(Math.floor(changed / 1000) * 1000) }, 'convene.ics', 'private');
    },
  });
};
