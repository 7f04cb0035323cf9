// Security headers on every response, a per-address rate limit on every public /v1 route, and a
// per-credential limit on writes so one API key or member token cannot monopolise the process.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';
import rateLimit from '@fastify/rate-limit';
import { problem } from '../errors.js';
import { asList, writes } from '../lib/route-hooks.js';

const HELMET_OPTIONS: HelmetOptions = {
  // The API serves JSON, calendars and a few plain pages; only /docs needs more (it sets its own CSP).
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      'default-src': ["'none'"],
      'style-src': ["'self'"],
      'img-src': ["'self'"],
      'form-action': ["'self'"],
      'frame-ancestors': ["'none'"],
      'base-uri': ["'none'"],
    },
  },
  crossOriginResourcePolicy: { policy: 'cross-origin' },
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
};

/** The headers helmet sets with these options, recorded by running its middleware once. */
export function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    failure = error;
  });
  if (failure) throw failure;
  return headers;
}

/** The credential a write is counted against: the API key or member token the auth guard resolved. */
function credentialKey(request: FastifyRequest): string {
  const principal = request.principal;
  if (!principal) return `address:${request.ip}`;
  return principal.kind === 'organiser' ? `key:${principal.keyId}` : `token:${principal.tokenId}`;
}

export default fp(
  async (app, opts: { publicPerMinute: number; writesPerMinute: number }) => {
    // Helmet decides the headers; they are the same for every request, so they are worked out once
    // and set with one call (helmet's middleware per request was a large share of every request's
    // time; bench/FINDINGS.md). /docs replaces the CSP with its own.
    const headers = securityHeaders(HELMET_OPTIONS);
    // A hook with a callback, not an async function: no promise and no microtask on every request.
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers);
      done();
    });

    // Registered before the rate-limit plugin so its own onRoute hook sees the setting.
    app.addHook('onRoute', (route) => {
      const auth = route.config?.auth;
      const isPublic = auth === 'public' || (typeof auth === 'object' && !Array.isArray(auth));
      if (isPublic && route.url.startsWith('/v1/') && route.config?.rateLimit === undefined) {
        route.config = { ...route.config, rateLimit: {} };
      }
    });

    await app.register(rateLimit, {
      global: false,
      max: opts.publicPerMinute,
      timeWindow: 60_000,
      errorResponseBuilder: (_request, context) =>
        problem('RATE_LIMITED', `Too many requests; try again in ${Math.ceil(context.ttl / 1000)} s`, {
          headers: { 'retry-after': String(Math.ceil(context.ttl / 1000)) },
        }),
    });

    // One budget per credential shared by all its writes (a route's own limit would count per route).
    // Appended to onRequest: the auth guard, which resolves the principal, is put first by the auth
    // plugin's onRoute; and it runs before idempotency (preHandler), so a refused write holds no key.
    const writeLimit = app.rateLimit({
      max: opts.writesPerMinute,
      timeWindow: 60_000,
      keyGenerator: credentialKey,
    }) as onRequestHookHandler;
    app.addHook('onRoute', (route) => {
      if (!Array.isArray(route.config?.auth) || !writes(route)) return;
      route.onRequest = [...asList(route.onRequest), writeLimit];
    });
  },
  { name: 'security' },
);
