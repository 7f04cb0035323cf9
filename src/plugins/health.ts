// /healthz (the process answers) and /readyz (database open and migrated, not shutting down).
import fp from 'fastify-plugin';
import { Type } from 'typebox';
import { migrationState } from '../db/client.js';
import { problem } from '../errors.js';
import { declareTag } from './openapi.js';

const Status = Type.Object({ status: Type.String({ description: 'ok or ready' }) });

export default fp(
  async (app) => {
    declareTag(app, { name: 'platform', description: 'Health, readiness and metrics' });
    let accepting = false;
    app.addHook('onReady', async () => {
      accepting = true;
    });
    app.addHook('preClose', async () => {
      accepting = false;
    });

    app.get('/healthz', {
      logLevel: 'warn',
      schema: { operationId: 'getHealth', tags: ['platform'], summary: 'The process is alive', security: [], response: { 200: Status } },
      handler: async () => ({ status: 'ok' }),
    });

    app.get('/readyz', {
      logLevel: 'warn',
      schema: {
        operationId: 'getReadiness',
        tags: ['platform'],
        summary: 'The database is open and migrated and the server is not shutting down',
        security: [],
        response: {
          200: Status,
          503: { description: 'Not ready (NOT_READY)', content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } } },
        },
      },
      handler: async () => {
        if (!accepting) throw problem('NOT_READY', 'The server is starting or shutting down');
        if (!app.sqlite.open) throw problem('NOT_READY', 'The database is closed');
        const { expected, applied } = migrationState(app.sqlite);
        if (applied < expected) throw problem('NOT_READY', `The database has ${applied} of ${expected} migrations; run convene db migrate`);
        return { status: 'ready' };
      },
    });
  },
  { name: 'health', dependencies: ['db', 'openapi'] },
);
