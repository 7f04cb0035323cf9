// Pitch slots and bookings over HTTP: anyone lists a huddle's slots and reads the agenda; members book
// and cancel; organisers approve, reject, cancel and list.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { jsonOrCsv, wantsCsv } from '../../lib/csv.js';
import { actorOf, memberOf, organiserOf, principalOf } from '../../plugins/auth.js';
import { IdempotencyHeaders } from '../../plugins/idempotency.js';
import { declareTag } from '../../plugins/openapi.js';
import type { HuddlesService } from '../huddles/huddles.service.js';
import { HuddleParams } from '../huddles/huddles.schemas.js';
import { bookingWindow } from '../huddles/huddles.settings.js';
import { zoned } from '../huddles/huddles.time.js';
import {
  Agenda,
  BookingCreate,
  BookingList,
  BookingListQuery,
  BookingParams,
  BookingView,
  CancelQuery,
  RejectBody,
  MoveBody,
  SlotList,
} from './bookings.schemas.js';
import type { BookingsService } from './bookings.service.js';
import { bookingsCsv, bookingView, slotView } from './bookings.view.js';

export const bookingsRoutes: FastifyPluginAsyncTypebox<{
  bookings: BookingsService;
  huddles: HuddlesService;
}> = async (app, { bookings, huddles }) => {
  declareTag(app, { name: 'bookings', description: 'Pitch slots booked by member organisations, and the agenda' });

  app.get('/v1/huddles/:id/slots', {
    config: { errors: ['HUDDLE_NOT_FOUND'], auth: { optional: ['organiser'] } },
    schema: {
      operationId: 'listSlots',
      tags: ['huddles'],
      summary: "List a huddle's pitch slots in order",
      params: HuddleParams,
      response: { 200: SlotList },
    },
    handler: async (request) => {
      const huddle = huddles.get(request.params.id);
      huddles.audience(huddle, request.principal); // "not found" unless the caller may see it
      const taken = bookings.takenSlotIds(huddle.id);
      const window = bookingWindow(huddle.startsAt, huddle);
      const now = app.clock.now();
      const open = huddle.status === 'published' && (window.opensAt === null || now >= window.opensAt) && now < window.closesAt;
      return { items: bookings.slots(huddle.id).map((slot) => slotView(slot, huddle.timezone, open && !taken.has(slot.id))) };
    },
  });

  app.post('/v1/huddles/:id/bookings', {
    config: {
      errors: [
        'HUDDLE_NOT_FOUND',
        'HUDDLE_CANCELLED',
        'SLOT_NOT_FOUND',
        'SLOT_TAKEN',
        'NO_SLOTS_LEFT',
        'BOOKING_LIMIT_REACHED',
        'BOOKING_CLOSED',
        'IDEMPOTENCY_KEY_REUSED',
        'IDEMPOTENCY_KEY_IN_FLIGHT',
      ],
      auth: ['member'],
      idempotency: true,
    },
    schema: {
      operationId: 'bookPitch',
      tags: ['bookings'],
      summary: 'Book a pitch slot (the given one or the first free one); pending when the huddle needs approval',
      params: HuddleParams,
      headers: IdempotencyHeaders,
      body: BookingCreate,
      response: { 201: BookingView },
    },
    handler: async (request, reply) => {
      const d = bookings.book(memberOf(request).memberId, request.params.id, request.body, actorOf(request));
      // The body returned, not sent: a returned reply is a thenable Fastify would wait on.
      reply.code(201).header('location', `/v1/bookings/${d.booking.id}`);
      return bookingView(d.booking, d.slot, d.huddle, d.member);
    },
  });

  app.get('/v1/huddles/:id/bookings', {
    config: { errors: ['HUDDLE_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'listBookings',
      tags: ['bookings'],
      summary: "List a huddle's bookings in slot order, as JSON or (Accept: text/csv) CSV",
      params: HuddleParams,
      querystring: BookingListQuery,
      response: { 200: jsonOrCsv(BookingList, 'The bookings') },
    },
    handler: async (request, reply) => {
      const huddle = huddles.getOwned(request.params.id, organiserOf(request).clusterId);
      const rows = bookings.forHuddle(huddle.id, request.query.status);
      if (wantsCsv(request.headers.accept)) {
        const csv = bookingsCsv(huddle, rows);
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="bookings-${huddle.id}.csv"`)
          .send(csv);
      }
      return { items: rows.map(({ booking, slot, member }) => bookingView(booking, slot, huddle, member)) };
    },
  });

  app.get('/v1/bookings/:id', {
    config: { errors: ['BOOKING_NOT_FOUND'], auth: ['member', 'organiser'] },
    schema: {
      operationId: 'getBooking',
      tags: ['bookings'],
      summary: "Get a booking (your own, or one of your cluster's)",
      params: BookingParams,
      response: { 200: BookingView },
    },
    handler: async (request) => {
      const d = bookings.get(request.params.id, principalOf(request));
      return bookingView(d.booking, d.slot, d.huddle, d.member);
    },
  });

  app.delete('/v1/bookings/:id', {
    config: { errors: ['BOOKING_NOT_FOUND', 'BOOKING_CANCELLED', 'CANCELLATION_CUTOFF_PASSED'], auth: ['member', 'organiser'] },
    schema: {
      operationId: 'cancelBooking',
      tags: ['bookings'],
      summary: 'Cancel a pitch: members until the cutoff, organisers at any time. The freed slot goes to the waitlist.',
      params: BookingParams,
      querystring: CancelQuery,
      response: { 200: BookingView },
    },
    handler: async (request) => {
      const d = bookings.cancel(request.params.id, principalOf(request), actorOf(request), request.query.reason ?? null);
      return bookingView(d.booking, d.slot, d.huddle, d.member);
    },
  });

  app.post('/v1/bookings/:id/approve', {
    config: { errors: ['BOOKING_NOT_FOUND', 'BOOKING_NOT_PENDING', 'HUDDLE_CANCELLED', 'BOOKING_LIMIT_REACHED'], auth: ['organiser'] },
    schema: {
      operationId: 'approveBooking',
      tags: ['bookings'],
      summary: 'Approve a pending pitch',
      params: BookingParams,
      response: { 200: BookingView },
    },
    handler: async (request) => {
      const d = bookings.approve(request.params.id, organiserOf(request), actorOf(request));
      return bookingView(d.booking, d.slot, d.huddle, d.member);
    },
  });

  app.post('/v1/bookings/:id/reject', {
    config: { errors: ['BOOKING_NOT_FOUND', 'BOOKING_NOT_PENDING'], auth: ['organiser'] },
    schema: {
      operationId: 'rejectBooking',
      tags: ['bookings'],
      summary: 'Reject a pending pitch; its slot is released',
      params: BookingParams,
      body: RejectBody,
      response: { 200: BookingView },
    },
    handler: async (request) => {
      const d = bookings.reject(request.params.id, organiserOf(request), actorOf(request), request.body.reason?.trim() || null);
      return bookingView(d.booking, d.slot, d.huddle, d.member);
    },
  });

  app.post('/v1/bookings/:id/move', {
    config: {
      errors: ['BOOKING_NOT_FOUND', 'BOOKING_CANCELLED', 'HUDDLE_CANCELLED', 'BOOKING_CLOSED', 'SLOT_NOT_FOUND', 'SLOT_TAKEN'],
      auth: ['organiser'],
    },
    schema: {
      operationId: 'moveBooking',
      tags: ['bookings'],
      summary: 'Move a pitch to another free slot of its huddle',
      description:
        'A confirmed pitcher is emailed the new time with a calendar update; the slot left is offered to the pitch waitlist. Refused once the huddle has started.',
      params: BookingParams,
      body: MoveBody,
      response: { 200: BookingView },
    },
    handler: async (request) => {
      const d = bookings.move(request.params.id, request.body.slotId, organiserOf(request), actorOf(request));
      return bookingView(d.booking, d.slot, d.huddle, d.member);
    },
  });

  app.get('/v1/huddles/:id/agenda', {
    config: { errors: ['HUDDLE_NOT_FOUND'], auth: { optional: ['organiser'] } },
    schema: {
      operationId: 'getAgenda',
      tags: ['bookings'],
      summary: 'The run of show: confirmed pitches in slot order',
      params: HuddleParams,
      response: { 200: Agenda },
    },
    handler: async (request) => {
      const huddle = huddles.get(request.params.id);
      const organiser = huddles.audience(huddle, request.principal) === 'organiser';
      return {
        huddleId: huddle.id,
        title: huddle.title,
        items: bookings.agenda(app.db, huddle.id).map(({ booking, slot, member }) => ({
          position: slot.position,
          start: zoned(slot.startsAt, huddle.timezone),
          end: zoned(slot.endsAt, huddle.timezone),
          organisation: member.organisation,
          organisationType: member.organisationType,
          title: booking.title,
          summary: booking.summary,
          ...(organiser ? { presenter: { name: member.name, email: member.email } } : {}),
        })),
      };
    },
  });
};
