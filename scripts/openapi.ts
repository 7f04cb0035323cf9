#!/usr/bin/env node
// Writes openapi/openapi.json from the route schemas (npm run openapi). A test fails when the committed copy is stale.
import { mkdirSync, writeFileSync } from 'node:fs';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { migrateDatabase, openDatabase } from '../src/db/client.js';
import { systemClock } from '../src/lib/clock.js';
import { projectRoot } from '../src/lib/paths.js';
import { createServices } from '../src/services.js';

const config = loadConfig({ DATABASE_PATH: ':memory:', MAIL_WORKER: 'false', SECRET_KEY: 'o'.repeat(32), LOG_LEVEL: 'silent' });
const database = openDatabase(':memory:');
migrateDatabase(database.db);
const app = await buildApp({ database, services: createServices({ db: database.db, clock: systemClock, config }), logger: false });
await app.ready();
const document = app.swagger();
mkdirSync(`${projectRoot}/openapi`, { recursive: true });
writeFileSync(`${projectRoot}/openapi/openapi.json`, JSON.stringify(document, null, 2) + '\n');
await app.close();
process.stdout.write(`wrote openapi/openapi.json (${Object.keys(document.paths ?? {}).length} paths)\n`);
