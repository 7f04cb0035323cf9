// The settings and the clock every plugin and route reads: the same config and clock the services were built with.
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import type { Clock } from '../lib/clock.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    clock: Clock;
  }
}

export default fp<{ config: Config; clock: Clock }>(
  async (app, { config, clock }) => {
    app.decorate('config', config);
    app.decorate('clock', clock);
  },
  { name: 'context' },
);
