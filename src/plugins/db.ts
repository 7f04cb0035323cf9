// Decorates the app with the database, clock and config. Whoever opened the database closes it (server.ts, tests).
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { type Database_, type Db, type Sqlite } from '../db/client.js';
import type { Clock } from '../lib/clock.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
    sqlite: Sqlite;
    clock: Clock;
    config: Config;
  }
}

export interface DbPluginOptions {
  database: Database_;
  clock: Clock;
  config: Config;
}

export default fp<DbPluginOptions>(
  async (app, opts) => {
    app.decorate('db', opts.database.db);
    app.decorate('sqlite', opts.database.sqlite);
    app.decorate('clock', opts.clock);
    app.decorate('config', opts.config);
  },
  { name: 'db' },
);
