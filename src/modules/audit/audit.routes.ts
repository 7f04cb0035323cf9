// GET /v1/clusters/{cluster}/audit: the organiser's view of the audit log.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { organiserOf } from '../../plugins/auth.js';
import { declareTag } from '../../plugins/openapi.js';
import { AuditPage, AuditParams, AuditQuery } from './audit.schemas.js';
import type { AuditService } from './audit.service.js';

export const auditRoutes: FastifyPluginAsyncTypebox<{ audit: AuditService }> = async (app, { audit }) => {
  declareTag(app, { name: 'audit', description: "The record of organisers' changes" });
  app.get('/v1/clusters/:cluster/audit', {
    config: { errors: ['CLUSTER_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'listAuditEvents',
      tags: ['audit'],
      summary: 'List the audit log of a cluster, newest first, filtered by who, what and when',
      params: AuditParams,
      querystring: AuditQuery,
      response: { 200: AuditPage },
    },
    handler: async (request) => {
      const { clusterId } = organiserOf(request);
      const { cursor, limit, actor, action, from, to } = request.query;
      const page = audit.list(clusterId, {
        cursor,
        limit: limit ?? 50,
        actor,
        action,
        from: from ? new Date(from) : undefined,
        to: to ? new Date(to) : undefined,
      });
      return {
        items: page.items.map((row) => ({
          id: row.id,
          at: row.at.toISOString(),
          actor: { type: row.actorType as 'organiser', id: row.actorId, label: row.actorLabel },
          action: row.action,
          target: { type: row.targetType, id: row.targetId },
          before: row.before,
          after: row.after,
          requestId: row.requestId,
        })),
        nextCursor: page.nextCursor,
      };
    },
  });
};
