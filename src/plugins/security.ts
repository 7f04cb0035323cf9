// Security headers on every response and a per-address rate limit on every public /v1 route.
import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { problem } from '../errors.js';

export default fp(
  async (app, opts: { publicPerMinute: number }) => {
    await app.register(helmet, {
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
