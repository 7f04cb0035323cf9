// POST /v1/huddles/{id}/invitations: invite members, a subscriber topic, or a list of addresses.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { actorOf, organiserOf } from '../../plugins/auth.js';
import { Email, Id, Line } from '../../lib/schema-types.js';
import { declareTag } from '../../plugins/openapi.js';
import type { HuddlesService } from '../huddles/huddles.service.js';
import { AUDIENCES, MAX_ADDRESSES, type InvitationsService } from './invitations.service.js';

const InviteBody = Type.Object(
  {
    audience: Type.Optional(
      Type.Union(
        AUDIENCES.map((name) => Type.Literal(name)),
        { description: 'members: every active member; subscribers: confirmed subscribers of the huddle-invites topic' },
      ),
    ),
    addresses: Type.Optional(
      Type.Array(
        Type.Object(
          { email: Email, name: Type.Optional(Line({ description: 'Name to address them by', maxLength: 200 })) },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: MAX_ADDRESSES, description: `Up to ${MAX_ADDRESSES} people by address` },
      ),
    ),
  },
  { additionalProperties: false, minProperties: 1, description: 'Who to invite: an audience, a list of addresses, or both' },
);

const InviteResult = Type.Object({
  invited: Type.Integer({ description: 'People newly invited; each is sent one email with a calendar invitation' }),
  alreadyInvited: Type.Integer({ description: 'People who were invited before and are not emailed again' }),
});

const InvitationList = Type.Object({
  items: Type.Array(
    Type.Object({
      email: Type.String({ description: 'Address invited' }),
      name: Type.Union([Type.String(), Type.Null()], { description: 'Name, if given' }),
      source: Type.String({ description: 'addresses, members or subscribers' }),
      invitedAt: Type.String({ format: 'date-time', description: 'When' }),
    }),
  ),
});

export const invitationsRoutes: FastifyPluginAsyncTypebox<{ invitations: InvitationsService; huddles: HuddlesService }> = async (
  app,
  { invitations, huddles },
) => {
  declareTag(app, { name: 'invitations', description: 'Calendar invitations to huddles, by email' });
  app.post('/v1/huddles/:id/invitations', {
    config: { errors: ['HUDDLE_NOT_FOUND', 'HUDDLE_NOT_PUBLISHED', 'HUDDLE_CANCELLED'], auth: ['organiser'] },
    schema: {
      operationId: 'inviteToHuddle',
      tags: ['invitations'],
      summary: 'Invite people; each new invitee gets one email with the huddle as a calendar invitation',
      params: Type.Object({ id: Id }),
      body: InviteBody,
      response: { 202: InviteResult },
    },
    handler: async (request, reply) => {
      const huddle = huddles.getOwned(request.params.id, organiserOf(request).clusterId);
      return reply.code(202).send(invitations.invite(huddle, request.body, actorOf(request)));
    },
  });

  app.get('/v1/huddles/:id/invitations', {
    config: { errors: ['HUDDLE_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'listInvitations',
      tags: ['invitations'],
      summary: 'List who is invited to a huddle',
      params: Type.Object({ id: Id }),
      response: { 200: InvitationList },
    },
    handler: async (request) => {
      const huddle = huddles.getOwned(request.params.id, organiserOf(request).clusterId);
      return {
        items: invitations
          .list(huddle.id)
          .map((i) => ({ email: i.email, name: i.name, source: i.source, invitedAt: i.createdAt.toISOString() })),
      };
    },
  });
};
