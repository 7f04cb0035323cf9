// What every Convene request pays besides its own work, written by hand for the baselines' "same work and
// hooks" variants (BENCH_HOOKS=1, issue 16 item 1): a request id echoed in a header, helmet's security
// headers (computed once), a latency histogram (prom-client) and a rate limit on the route.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import helmet from 'helmet';
import { Histogram, Registry } from 'prom-client';

export const withHooks = process.env.BENCH_HOOKS === '1';

/** Fastify's options: a UUID per request, as Convene's request ids are. */
export const hookedOptions = withHooks ? { genReqId: () => randomUUID() } : {};

/** A route's config: a rate limit no bench reaches, counted on every request as Convene's are. */
export const hookedRouteConfig = withHooks ? { config: { rateLimit: { max: 1_000_000, timeWindow: 60_000 } } } : {};

/** Adds the hooks to `app` when BENCH_HOOKS=1; call before declaring the routes. */
export async function addHooks(app: FastifyInstance): Promise<void> {
  if (!withHooks) return;
  const security: Record<string, string> = {};
  helmet()({} as never, { setHeader: (name: string, value: string) => (security[name] = value), removeHeader() {} } as never, () => {});
  const registry = new Registry();
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Request duration',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  await app.register(rateLimit, { global: false });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    reply.headers(security);
  });
  app.addHook('onResponse', async (request, reply) => {
    duration.observe({ method: request.method, route: request.routeOptions.url ?? '', status: reply.statusCode }, reply.elapsedTime / 1000);
  });
}
