// GET /v1/me: the signed-in member's own view, gathered from the modules that hold their things
// (members, bookings, waitlist, registrations). The module sits above all of them and owns no table.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { bookingView } from '../bookings/bookings.view.js';
import type { BookingsService } from '../bookings/bookings.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import { signedInMember } from '../members/members.http.js';
import type { MembersService } from '../members/members.service.js';
import { memberFeedLinks, memberView } from '../members/members.view.js';
import type { RegistrationsService } from '../registrations/registrations.service.js';
import { registrationView } from '../registrations/registrations.view.js';
import type { WaitlistService } from '../waitlist/waitlist.service.js';
import { waitlistPlace } from '../waitlist/waitlist.view.js';
import { MeView } from './account.schemas.js';

/** Pitches stay in the member's view this long after their huddle began. */
const RECENT_MS = 30 * 86_400_000;

export const accountRoutes: FastifyPluginAsyncTypebox<{
  members: MembersService;
  clusters: ClustersService;
  bookings: BookingsService;
  waitlist: WaitlistService;
  registrations: RegistrationsService;
}> = async (app, { members, clusters, bookings, waitlist, registrations }) => {
  app.get('/v1/me', {
    config: { auth: ['member'] },
    schema: {
      operationId: 'getMe',
      tags: ['members'],
      summary: 'The signed-in member and their private calendar feed',
      response: { 200: MeView },
    },
    handler: async (request, reply) => {
      const member = signedInMember(members, request);
      const cluster = clusters.getById(member.clusterId);
      const since = new Date(app.clock.now().getTime() - RECENT_MS);
      return reply.header('cache-control', 'private, no-store').send({
        member: memberView(member, cluster.slug),
        clusterName: cluster.name,
        calendar: memberFeedLinks(app.config.publicBaseUrl, members.feedToken(member)),
        bookings: bookings.forMember(member.id, { since }).map(({ booking, slot, huddle }) => bookingView(booking, slot, huddle, member)),
        waitlist: waitlist.forMember(member.id).map((place) => waitlistPlace(place.entry, place.huddle, place.position, place.offer)),
        registrations: registrations.forMember(member.id).map((row) => registrationView(row.registration, row.huddle, row.position)),
      });
    },
  });
};
