// Attendance over HTTP: members register and cancel; organisers list the audience as JSON or CSV.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { problem } from '../../errors.js';
import { jsonOrCsv, toCsv, wantsCsv } from '../../lib/csv.js';
import { Id } from '../../lib/schema-types.js';
import { actorOf, organiserOf } from '../../plugins/auth.js';
import { declareTag } from '../../plugins/openapi.js';
import type { HuddlesService } from '../huddles/huddles.service.js';
import { HuddleParams } from '../huddles/huddles.schemas.js';
import { signedInMember } from '../members/members.http.js';
import type { MembersService } from '../members/members.service.js';
import { AudienceList, RegistrationView } from './registrations.schemas.js';
import type { RegistrationsService } from './registrations.service.js';
import { registrationView } from './registrations.view.js';

export const registrationsRoutes: FastifyPluginAsyncTypebox<{
  registrations: RegistrationsService;
  huddles: HuddlesService;
  members: MembersService;
}> = async (app, { registrations, huddles, members }) => {
  declareTag(app, { name: 'registrations', description: 'Registering to attend a huddle' });

  app.post('/v1/huddles/:id/registrations', {
    config: { errors: ['HUDDLE_NOT_FOUND', 'HUDDLE_CANCELLED', 'REGISTRATION_CLOSED', 'ALREADY_REGISTERED'], auth: ['member'] },
    schema: {
      operationId: 'registerForHuddle',
      tags: ['registrations'],
      summary: 'Register to attend: registered, or waitlisted when the huddle is at capacity',
      params: HuddleParams,
      response: { 201: RegistrationView },
    },
    handler: async (request, reply) => {
      const { registration, position, huddle } = registrations.register(
        signedInMember(members, request),
        request.params.id,
        actorOf(request),
      );
      return reply.code(201).send(registrationView(registration, huddle, position));
    },
  });

  app.delete('/v1/huddles/:id/registrations/me', {
    config: { errors: ['HUDDLE_NOT_FOUND', 'NOT_REGISTERED'], auth: ['member'] },
    schema: {
      operationId: 'cancelRegistration',
      tags: ['registrations'],
      summary: 'Cancel your registration (or waiting place); a freed place goes to the first waiting',
      params: HuddleParams,
      response: { 204: Type.Null({ description: 'Cancelled' }) },
    },
    handler: async (request, reply) => {
      registrations.cancel(signedInMember(members, request), request.params.id, actorOf(request));
      return reply.code(204).send(null);
    },
  });

  app.get('/v1/huddles/:id/registrations', {
    config: { errors: ['HUDDLE_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'listRegistrations',
      tags: ['registrations'],
      summary: "List a huddle's registrations in order, as JSON or (Accept: text/csv) CSV",
      params: HuddleParams,
      response: { 200: jsonOrCsv(AudienceList, 'The registrations') },
    },
    handler: async (request, reply) => {
      const huddle = huddles.getOwned(request.params.id, organiserOf(request).clusterId);
      const rows = registrations.forHuddle(huddle.id);
      if (wantsCsv(request.headers.accept)) {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="registrations-${huddle.id}.csv"`)
          .send(
            toCsv(
              ['status', 'name', 'email', 'organisation', 'organisation_type', 'registered_at'],
              rows.map(({ registration, member }) => [
                registration.status,
                member.name,
                member.email,
                member.organisation,
                member.organisationType,
                registration.createdAt.toISOString(),
              ]),
            ),
          );
      }
      return {
        items: rows.map(({ registration, member }) => ({
          id: registration.id,
          status: registration.status,
          member: {
            id: member.id,
            name: member.name,
            email: member.email,
            organisation: member.organisation,
            organisationType: member.organisationType,
          },
          createdAt: registration.createdAt.toISOString(),
        })),
      };
    },
  });
};

const AttendanceParams = Type.Object({ id: Id, memberId: Id });

const AttendanceList = Type.Object({
  items: Type.Array(
    Type.Object({
      memberId: Type.String({ description: 'Member who came' }),
      name: Type.String({ description: 'Their name' }),
      organisation: Type.String({ description: 'Their organisation' }),
      checkedInAt: Type.String({ format: 'date-time', description: 'When they were checked in' }),
      checkedInBy: Type.Union([Type.String(), Type.Null()], { description: 'Who checked them in' }),
    }),
  ),
});

/** Checking people in at the door: what the impact report counts as attendance. */
export const attendanceRoutes: FastifyPluginAsyncTypebox<{
  registrations: RegistrationsService;
  huddles: HuddlesService;
  members: MembersService;
}> = async (app, { registrations, huddles, members }) => {
  const memberOf = (clusterId: string, memberId: string) => {
    const member = members.byId(memberId);
    if (!member || member.clusterId !== clusterId) throw problem('MEMBER_NOT_FOUND', `No member ${memberId} in this cluster`);
    return member;
  };

  app.get('/v1/huddles/:id/attendance', {
    config: { errors: ['HUDDLE_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'listAttendance',
      tags: ['registrations'],
      summary: 'Who was checked in at the door',
      params: HuddleParams,
      response: { 200: AttendanceList },
    },
    handler: async (request) => {
      const huddle = huddles.getOwned(request.params.id, organiserOf(request).clusterId);
      const rows = registrations.attendance.inHuddles([huddle.id]);
      const people = members.getMany(
        app.db,
        rows.map((row) => row.memberId),
      );
      return {
        items: rows.map((row) => ({
          memberId: row.memberId,
          name: people.get(row.memberId)!.name,
          organisation: people.get(row.memberId)!.organisation,
          checkedInAt: row.checkedInAt.toISOString(),
          checkedInBy: row.checkedInBy,
        })),
      };
    },
  });

  app.put('/v1/huddles/:id/attendance/:memberId', {
    config: { errors: ['HUDDLE_NOT_FOUND', 'HUDDLE_NOT_PUBLISHED', 'CHECK_IN_NOT_OPEN', 'MEMBER_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'checkIn',
      tags: ['registrations'],
      summary: 'Check a member in at the door (again: nothing changes)',
      params: AttendanceParams,
      response: { 204: Type.Null({ description: 'Checked in' }) },
    },
    handler: async (request, reply) => {
      const organiser = organiserOf(request);
      const huddle = huddles.getOwned(request.params.id, organiser.clusterId);
      registrations.attendance.checkIn(huddle, memberOf(organiser.clusterId, request.params.memberId), actorOf(request));
      return reply.code(204).send(null);
    },
  });

  app.delete('/v1/huddles/:id/attendance/:memberId', {
    config: { errors: ['HUDDLE_NOT_FOUND', 'HUDDLE_NOT_PUBLISHED', 'CHECK_IN_NOT_OPEN', 'MEMBER_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'undoCheckIn',
      tags: ['registrations'],
      summary: 'Take back a check-in made by mistake',
      params: AttendanceParams,
      response: { 204: Type.Null({ description: 'Not checked in' }) },
    },
    handler: async (request, reply) => {
      const organiser = organiserOf(request);
      const huddle = huddles.getOwned(request.params.id, organiser.clusterId);
      registrations.attendance.undo(huddle, memberOf(organiser.clusterId, request.params.memberId), actorOf(request));
      return reply.code(204).send(null);
    },
  });
};
