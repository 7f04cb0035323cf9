// Security headers on every response and a per-address rate limit on every public /v1 route.
import type { IncomingMessage, ServerResponse } from 'node:http';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';
import rateLimit from '@fastify/rate-limit';
import { problem } from '../errors.js';

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

export default fp(
  async (app, opts: { publicPerMinute: number }) => {
    // Helmet decides the headers; they are the same for every request, so they are worked out once
    // and set with one call (helmet's middleware per request was a large share of every request's
    // time; bench/FINDINGS.md). /docs replaces the CSP with its own.
    const headers = securityHeaders(HELMET_OPTIONS);
    app.addHook('onRequest', async (_request, reply) => {
      reply.headers(headers);
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
  },
  { name: 'security' },
);
