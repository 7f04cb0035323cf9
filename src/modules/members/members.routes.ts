// Members over HTTP: organisers add, list, read and update members; members sign in, sign out and
// rotate their private feed (their own view, /v1/me, is the account module's).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FastifyBaseLogger } from 'fastify';
import { problem } from '../../errors.js';
import { actorOf, memberOf } from '../../plugins/auth.js';
import { declareTag } from '../../plugins/openapi.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import { ClusterParams } from '../clusters/clusters.schemas.js';
import {
  Accepted,
  EmailLinkBody,
  IssuedToken,
  MemberCreate,
  MemberImport,
  MemberImportResult,
  MemberListQuery,
  MemberPage,
  MemberParams,
  MemberPatch,
  MemberView,
  TokenBody,
  CalendarLinks,
} from './members.schemas.js';
import { signedInMember } from './members.http.js';
import { parseMembersCsv } from './members.import.js';
import type { Member, MembersService } from './members.service.js';
import type { SignIn } from './members.sign-in.js';
import { memberFeedLinks, memberView } from './members.view.js';

/** Emails the link (or nothing) once the 202 is out; a failure is logged, the client has its answer already. */
export function sendLinkAfterResponse(signIn: SignIn, email: string, log: FastifyBaseLogger): void {
  try {
    signIn.requestLink(email);
  } catch (error) {
    log.error({ err: error }, 'could not send a sign-in link');
  }
}

export const ACCEPTED_DETAIL = 'If this address belongs to an active member, a sign-in link is on its way. It works once, for 15 minutes.';

export const membersRoutes: FastifyPluginAsyncTypebox<{ members: MembersService; signIn: SignIn; clusters: ClustersService }> = async (
  app,
  { members, signIn, clusters },
) => {
  declareTag(app, { name: 'members', description: "A cluster's members, and the signed-in member's own view" });
  declareTag(app, { name: 'sign-in', description: 'Email sign-in for members and their tokens' });
  const feedLinks = (member: Member) => memberFeedLinks(app.config.publicBaseUrl, members.feedToken(member));

  app.post('/v1/clusters/:cluster/members', {
    config: { errors: ['CLUSTER_NOT_FOUND', 'MEMBER_EXISTS'], auth: ['organiser'] },
    schema: {
      operationId: 'createMember',
      tags: ['members'],
      summary: 'Add a member; they are emailed a welcome with a sign-in link',
      params: ClusterParams,
      body: MemberCreate,
      response: { 201: MemberView },
    },
    handler: async (request, reply) => {
      const cluster = clusters.get(request.params.cluster);
      const member = members.create(cluster, request.body, actorOf(request));
      return reply.code(201).header('location', `/v1/clusters/${cluster.slug}/members/${member.id}`).send(memberView(member, cluster.slug));
    },
  });

  app.get('/v1/clusters/:cluster/members', {
    config: { errors: ['CLUSTER_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'listMembers',
      tags: ['members'],
      summary: 'List members, optionally by status and organisation type',
      params: ClusterParams,
      querystring: MemberListQuery,
      response: { 200: MemberPage },
    },
    handler: async (request) => {
      const cluster = clusters.get(request.params.cluster);
      const { status, organisationType, q, cursor, limit } = request.query;
      const page = members.list(cluster, { status, organisationType, search: q?.trim(), cursor, limit: limit ?? 50 });
      return { items: page.items.map((member) => memberView(member, cluster.slug)), nextCursor: page.nextCursor };
    },
  });

  app.post('/v1/clusters/:cluster/members/import', {
    bodyLimit: 3 * 1024 * 1024,
    config: { errors: ['CLUSTER_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'importMembers',
      tags: ['members'],
      summary: 'Add members from a CSV (all the good rows in one transaction); rejected rows come back with their lines and reasons',
      description:
        'Check first with dryRun: true (nothing is saved). A file that is not readable CSV, or lacks a column, is refused whole (400).',
      params: ClusterParams,
      body: MemberImport,
      response: { 200: MemberImportResult },
    },
    handler: async (request) => {
      const cluster = clusters.get(request.params.cluster);
      const parsed = parseMembersCsv(request.body.csv);
      if (parsed.error) throw problem('VALIDATION_FAILED', parsed.error, { errors: [{ field: 'body/csv', message: parsed.error }] });
      return await members.importRows(cluster, parsed, actorOf(request), { dryRun: request.body.dryRun ?? false });
    },
  });

  app.get('/v1/clusters/:cluster/members/:memberId', {
    config: { errors: ['CLUSTER_NOT_FOUND', 'MEMBER_NOT_FOUND'], auth: ['organiser'] },
    schema: { operationId: 'getMember', tags: ['members'], summary: 'Get one member', params: MemberParams, response: { 200: MemberView } },
    handler: async (request) => {
      const cluster = clusters.get(request.params.cluster);
      return memberView(members.get(cluster, request.params.memberId), cluster.slug);
    },
  });

  app.patch('/v1/clusters/:cluster/members/:memberId', {
    config: { errors: ['CLUSTER_NOT_FOUND', 'MEMBER_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'updateMember',
      tags: ['members'],
      summary: "Change a member's details, or suspend or reactivate them",
      params: MemberParams,
      body: MemberPatch,
      response: { 200: MemberView },
    },
    handler: async (request) => {
      const cluster = clusters.get(request.params.cluster);
      return memberView(members.update(cluster, request.params.memberId, request.body, actorOf(request)), cluster.slug);
    },
  });

  app.post('/v1/auth/email-link', {
    config: { auth: 'public', rateLimit: { max: app.config.signInRateLimitPerMinute, timeWindow: 60_000 } },
    schema: {
      operationId: 'requestSignInLink',
      tags: ['sign-in'],
      summary: 'Email a one-time sign-in link to an active member (always 202, whoever the address belongs to)',
      body: EmailLinkBody,
      response: { 202: Accepted },
    },
    handler: async (_request, reply) => reply.code(202).send({ status: 'accepted' as const, detail: ACCEPTED_DETAIL }),
    // The work happens after the answer is sent, so its timing cannot tell members from strangers.
    onResponse: async (request, reply) => {
      if (reply.statusCode === 202) sendLinkAfterResponse(signIn, request.body.email, request.log);
    },
  });

  app.post('/v1/auth/tokens', {
    config: {
      errors: ['SIGN_IN_CODE_INVALID'],
      auth: 'public',
      rateLimit: { max: app.config.signInRateLimitPerMinute, timeWindow: 60_000 },
    },
    schema: {
      operationId: 'createMemberToken',
      tags: ['sign-in'],
      summary: 'Exchange a one-time sign-in code for a member token (valid 90 days)',
      body: TokenBody,
      response: { 201: IssuedToken },
    },
    handler: async (request, reply) => {
      const issued = signIn.exchange(request.body.code);
      const member = members.byId(issued.memberId)!;
      const cluster = clusters.getById(member.clusterId);
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({
          token: issued.token,
          tokenType: 'Bearer' as const,
          expiresAt: issued.expiresAt.toISOString(),
          member: memberView(member, cluster.slug),
          calendar: feedLinks(member),
        });
    },
  });

  app.delete('/v1/auth/tokens/current', {
    config: { auth: ['member'] },
    schema: {
      operationId: 'revokeCurrentToken',
      tags: ['sign-in'],
      summary: 'Sign out: revoke the token this request carries',
      response: { 204: Type.Null({ description: 'Signed out; the token no longer works' }) },
    },
    handler: async (request, reply) => {
      signIn.revoke(memberOf(request));
      return reply.code(204).send(null);
    },
  });

  app.post('/v1/me/calendar-feed/rotate', {
    config: { auth: ['member'] },
    schema: {
      operationId: 'rotateMemberFeed',
      tags: ['members'],
      summary: 'Give the private calendar feed a new address; the old one stops working at once',
      response: { 200: CalendarLinks },
    },
    handler: async (request, reply) => {
      const member = members.rotateFeed(signedInMember(members, request), actorOf(request));
      return reply.header('cache-control', 'no-store').send(feedLinks(member));
    },
  });
};
