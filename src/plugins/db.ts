// The database: decorated onto the app for the plugins that read it (health, idempotency), and closed
// when the app closes (last, since plugins close in reverse order), folding the WAL back into the file.
import fp from 'fastify-plugin';
import { closeDatabase, type Database_, type Db, type Sqlite } from '../db/client.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Db;
    sqlite: Sqlite;
  }
}

export interface DbPluginOptions {
  /** An open, migrated database; from now on the app owns it. */
  database: Database_;
}

export default fp<DbPluginOptions>(
  async (app, { database }) => {
    app.decorate('db', database.db);
    app.decorate('sqlite', database.sqlite);
    app.addHook('onClose', async () => closeDatabase(database.sqlite, { checkpoint: true }));
  },
  { name: 'db' },
);
