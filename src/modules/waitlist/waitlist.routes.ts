// The pitch waitlist over HTTP (members): join, leave, and accept or decline an offered slot.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Id, Line, Paragraphs } from '../../lib/schema-types.js';
import { actorOf } from '../../plugins/auth.js';
import { declareTag } from '../../plugins/openapi.js';
import { BookingView } from '../bookings/bookings.schemas.js';
import { bookingView } from '../bookings/bookings.view.js';
import { HuddleParams } from '../huddles/huddles.schemas.js';
import { signedInMember } from '../members/members.http.js';
import type { MembersService } from '../members/members.service.js';
import { WaitlistPlace } from './waitlist.schemas.js';
import type { WaitlistService } from './waitlist.service.js';
import { waitlistPlace } from './waitlist.view.js';

const OfferParams = Type.Object({ id: Id });

export const waitlistRoutes: FastifyPluginAsyncTypebox<{ waitlist: WaitlistService; members: MembersService }> = async (
  app,
  { waitlist, members },
) => {
  declareTag(app, { name: 'waitlist', description: 'The pitch waitlist and its offers' });

  app.post('/v1/huddles/:id/waitlist', {
    config: {
      errors: ['HUDDLE_NOT_FOUND', 'HUDDLE_CANCELLED', 'BOOKING_CLOSED', 'ALREADY_ON_WAITLIST', 'SLOTS_AVAILABLE', 'BOOKING_LIMIT_REACHED'],
      auth: ['member'],
    },
    schema: {
      operationId: 'joinWaitlist',
      tags: ['waitlist'],
      summary: 'Join the pitch waitlist of a full huddle (once per organisation); returns your place in line',
      params: HuddleParams,
      body: Type.Object(
        {
          title: Line({ description: 'What you would pitch', maxLength: 200 }),
          summary: Type.Optional(Paragraphs({ description: 'A few lines about it', maxLength: 2000 })),
        },
        { additionalProperties: false },
      ),
      response: { 201: WaitlistPlace },
    },
    handler: async (request, reply) => {
      const member = signedInMember(members, request);
      const { entry, position, huddle } = waitlist.join(member, request.params.id, request.body, actorOf(request));
      return reply.code(201).send(waitlistPlace(entry, huddle, position, null));
    },
  });

  app.delete('/v1/huddles/:id/waitlist/me', {
    config: { errors: ['NOT_ON_WAITLIST'], auth: ['member'] },
    schema: {
      operationId: 'leaveWaitlist',
      tags: ['waitlist'],
      summary: 'Leave the waitlist (an offer you hold passes to the next in line)',
      params: HuddleParams,
      response: { 204: Type.Null({ description: 'Left' }) },
    },
    handler: async (request, reply) => {
      waitlist.leave(signedInMember(members, request), request.params.id, actorOf(request));
      return reply.code(204).send(null);
    },
  });

  app.post('/v1/waitlist-offers/:id/accept', {
    config: {
      errors: [
        'OFFER_NOT_FOUND',
        'OFFER_CLOSED',
        'HUDDLE_NOT_FOUND',
        'HUDDLE_CANCELLED',
        'BOOKING_CLOSED',
        'BOOKING_LIMIT_REACHED',
        'SLOT_TAKEN',
      ],
      auth: ['member'],
    },
    schema: {
      operationId: 'acceptWaitlistOffer',
      tags: ['waitlist'],
      summary: 'Accept an offered slot: it is booked for you',
      params: OfferParams,
      response: { 201: BookingView },
    },
    handler: async (request, reply) => {
      const d = waitlist.accept(request.params.id, signedInMember(members, request), actorOf(request));
      return reply
        .code(201)
        .header('location', `/v1/bookings/${d.booking.id}`)
        .send(bookingView(d.booking, d.slot, d.huddle, d.member));
    },
  });

  app.post('/v1/waitlist-offers/:id/decline', {
    config: { errors: ['OFFER_NOT_FOUND', 'OFFER_CLOSED'], auth: ['member'] },
    schema: {
      operationId: 'declineWaitlistOffer',
      tags: ['waitlist'],
      summary: 'Decline an offered slot: it goes to the next in line',
      params: OfferParams,
      response: { 204: Type.Null({ description: 'Declined' }) },
    },
    handler: async (request, reply) => {
      waitlist.decline(request.params.id, signedInMember(members, request));
      return reply.code(204).send(null);
    },
  });
};
