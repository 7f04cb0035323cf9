// Idempotency-Key for unsafe requests of routes that opt in with `config: { idempotency: true }`.
// The same key with the same request replays the first response (with Idempotent-Replayed: true);
// with a different request it is 422; while the first is still running, 409. Keys are kept 24 hours
// and belong to the caller who sent them. Responses of 500 and above are not kept, so a retry runs again.
import { createHash } from 'node:crypto';
import { Type } from 'typebox';
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { and, eq, lt, sql } from 'drizzle-orm';
import { immediate } from '../db/client.js';
import { idempotencyKeys } from '../db/schema.js';
import { problem } from '../errors.js';
import { asList } from '../lib/route-hooks.js';

export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
const KEY = /^[\x21-\x7e]{1,255}$/;
const KEPT_HEADERS = ['content-type', 'location'];

declare module 'fastify' {
  interface FastifyContextConfig {
    idempotency?: boolean;
  }
  interface FastifyRequest {
    idempotency: { scope: string; key: string } | null;
  }
}

/** The header as route schemas declare it (so it shows in the OpenAPI document). */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description:
        'Any unique string (a UUID is ideal). Sending the same request again with the same key replays the first response instead ' +
        'of acting twice; kept for 24 hours.',
    }),
  ),
});

function fingerprint(request: FastifyRequest): string {
  const hash = createHash('sha256');
  hash.update(`${request.method} ${request.routeOptions.url ?? ''} ${JSON.stringify(request.params ?? {})}\n`);
  hash.update(JSON.stringify(request.body ?? null));
  return hash.digest('hex');
}

export default fp(
  async (app) => {
    const db = app.db;
    app.decorateRequest('idempotency', null);

    async function begin(request: FastifyRequest, reply: FastifyReply) {
      const header = request.headers['idempotency-key'];
      if (header === undefined) return;
      if (typeof header !== 'string' || !KEY.test(header)) {
        throw problem('VALIDATION_FAILED', 'Idempotency-Key must be 1-255 visible ASCII characters', {
          errors: [{ field: 'headers/idempotency-key', message: 'is not valid' }],
        });
      }
      const principal = request.principal;
      const scope = principal
        ? `${principal.kind}:${principal.kind === 'organiser' ? principal.organiserId : principal.memberId}`
        : `ip:${request.ip}`;
      const print = fingerprint(request);
      const now = app.clock.now();
      const existing = immediate(db, (tx) => {
        const row = tx
          .select()
          .from(idempotencyKeys)
          .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, header)))
          .get();
        if (row && row.expiresAt > now) return row;
        if (row)
          tx.delete(idempotencyKeys)
            .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, header)))
            .run();
        // Opportunistic clean-up of a few expired keys, so the table stays small without a job.
        tx.delete(idempotencyKeys)
          .where(sql`rowid IN (SELECT rowid FROM ${idempotencyKeys} WHERE ${lt(idempotencyKeys.expiresAt, now)} LIMIT 100)`)
          .run();
        tx.insert(idempotencyKeys)
          .values({
            scope,
            key: header,
            fingerprint: print,
            state: 'in-flight',
            createdAt: now,
            expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS),
          })
          .run();
        return undefined;
      });
      if (!existing) {
        request.idempotency = { scope, key: header };
        return;
      }
      if (existing.state === 'in-flight')
        throw problem('IDEMPOTENCY_KEY_IN_FLIGHT', 'The first request with this Idempotency-Key is still being processed; retry shortly');
      if (existing.fingerprint !== print)
        throw problem('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request; use a new key for a new request');
      for (const [name, value] of Object.entries(existing.headers ?? {})) reply.header(name, value);
      return reply
        .code(existing.statusCode ?? 200)
        .header('idempotent-replayed', 'true')
        .send(existing.body ?? '');
    }

    function forget(request: FastifyRequest) {
      const held = request.idempotency;
      if (!held) return;
      request.idempotency = null;
      // Every write in immediate(), so it takes the write gate the server shares with its mail thread.
      immediate(db, (tx) =>
        tx
          .delete(idempotencyKeys)
          .where(and(eq(idempotencyKeys.scope, held.scope), eq(idempotencyKeys.key, held.key)))
          .run(),
      );
    }

    async function record(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
      const held = request.idempotency;
      if (!held) return payload;
      if (reply.statusCode >= 500 || (payload !== null && typeof payload !== 'string')) {
        forget(request);
        return payload;
      }
      const headers: Record<string, string> = {};
      for (const name of KEPT_HEADERS) {
        const value = reply.getHeader(name);
        if (value !== undefined) headers[name] = String(value);
      }
      immediate(db, (tx) =>
        tx
          .update(idempotencyKeys)
          .set({ state: 'done', statusCode: reply.statusCode, headers, body: payload ?? '' })
          .where(and(eq(idempotencyKeys.scope, held.scope), eq(idempotencyKeys.key, held.key)))
          .run(),
      );
      request.idempotency = null;
      return payload;
    }
    const release = async (request: FastifyRequest) => forget(request);

    // Only the routes that take an Idempotency-Key pay for these hooks. A client that hangs up
    // before the answer must not leave its key stuck "in flight" (onRequestAbort).
    app.addHook('onRoute', (route) => {
      if (route.config?.idempotency !== true) return;
      route.preHandler = [begin, ...asList(route.preHandler)];
      route.onSend = [...asList(route.onSend), record];
      route.onResponse = [...asList(route.onResponse), release];
      route.onRequestAbort = [...asList(route.onRequestAbort), release];
    });
  },
  { name: 'idempotency', dependencies: ['db', 'auth'] },
);
