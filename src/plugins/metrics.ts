// Prometheus metrics at /metrics: request durations by route pattern, the outbox backlog, process figures.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import type { LockWaits } from '../db/client.js';
import { problem } from '../errors.js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

// Process figures (memory, event loop lag, GC) are per process, so they are collected once per process.
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'convene_' });
  }
  return processRegistry;
}

export interface MetricsOptions {
  /** Counts of outbox rows by status; read when /metrics is scraped. */
  outboxBacklog: () => Record<string, number>;
  /** How often and how long this process's transactions waited for the write lock (another process, the mail thread). */
  lockWaits: () => LockWaits;
  /** How often and how long requests waited for a write turn (as a promise). */
  writeTurnWaits: () => LockWaits;
  /** The bearer token a scraper must send; undefined: only clients on this machine may read. */
  token: string | undefined;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Whether an address is this machine's: 127.0.0.0/8, ::1, or IPv4 loopback written as IPv6. */
export function isLoopback(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || (isIP(v4) === 4 && v4.startsWith('127.'));
}

/** Refuses a scrape without the token (or, with no token set, from another machine): the backlog is not public. */
function metricsGuard(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token);
  return async (request: FastifyRequest) => {
    if (expected === undefined) {
      if (isLoopback(request.ip)) return;
      throw problem('FORBIDDEN', 'Metrics are readable from this machine only; set METRICS_TOKEN to read them from elsewhere');
    }
    const header = request.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (presented === undefined)
      throw problem('AUTH_REQUIRED', 'Send the METRICS_TOKEN as a bearer token', {
        headers: { 'www-authenticate': 'Bearer realm="metrics"' },
      });
    if (!timingSafeEqual(digest(presented), expected)) {
      throw problem('INVALID_CREDENTIALS', 'This is not the METRICS_TOKEN', {
        headers: { 'www-authenticate': 'Bearer realm="metrics", error="invalid_token"' },
      });
    }
  };
}

export default fp<MetricsOptions>(
  async (app, opts) => {
    const registry = new Registry();
    const duration = new Histogram({
      name: 'convene_http_request_duration_seconds',
      help: 'Time to answer HTTP requests, by route pattern',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    new Gauge({
      name: 'convene_outbox_messages',
      help: 'Outbox messages by status (queued and sending are the backlog)',
      labelNames: ['status'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [status, count] of Object.entries(opts.outboxBacklog())) this.set({ status }, count);
      },
    });

    // A transaction that waits for the write lock (another process's writer, the newsletter CLI say, or at
    // the gate, this server's mail thread) waits on the event loop: every request behind it waits too. A
    // write turn is waited for as a promise (src/plugins/write-turns.ts): only that request waits.
    const waitMetrics = [
      {
        name: 'lock',
        read: opts.lockWaits,
        what: "transactions' BEGIN IMMEDIATE of 0.5 ms or more, on the event loop: the write lock held by another process or this server's mail thread (rarely, a pause of this process)",
      },
      {
        name: 'write_turn',
        read: opts.writeTurnWaits,
        what: "requests' waits of 0.5 ms or more for a write turn, as a promise (not on the event loop), while this server's mail thread wrote",
      },
    ];
    for (const { name, read, what } of waitMetrics) {
      new Counter({
        name: `convene_db_${name}_waits_total`,
        help: `Count of ${what}`,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(read().count);
        },
      });
      new Counter({
        name: `convene_db_${name}_wait_seconds_total`,
        help: `Seconds spent in ${what}`,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(read().seconds);
        },
      });
      new Gauge({
        name: `convene_db_${name}_wait_longest_seconds`,
        help: `The longest of ${what}, since the server started`,
        registers: [registry],
        collect() {
          this.set(read().longestSeconds);
        },
      });
    }

    app.addHook('onResponse', (request, reply, done) => {
      // The route pattern, never the raw URL: raw URLs carry ids and tokens and would explode the label set.
      const route = request.routeOptions.url ?? 'unmatched';
      duration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
      done();
    });

    app.get('/metrics', { schema: { hide: true }, logLevel: 'warn', onRequest: metricsGuard(opts.token) }, async (_request, reply) => {
      const body = (await registry.metrics()) + (await processMetrics().metrics());
      return reply.type(registry.contentType).send(body);
    });
  },
  { name: 'metrics' },
);
