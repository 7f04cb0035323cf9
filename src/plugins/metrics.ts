// Prometheus metrics at /metrics: request durations by route pattern, the outbox backlog, process figures.
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

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

    app.addHook('onResponse', async (request, reply) => {
      // The route pattern, never the raw URL: raw URLs carry ids and tokens and would explode the label set.
      const route = request.routeOptions.url ?? 'unmatched';
      duration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });

    app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => {
      const body = (await registry.metrics()) + (await processMetrics().metrics());
      return reply.type(registry.contentType).send(body);
    });
  },
  { name: 'metrics' },
);
