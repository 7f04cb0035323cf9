// Builds a real app per test: fresh in-memory database with the real migrations, closed in teardown.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import { closeDatabase, migrateDatabase, openDatabase, type Database_ } from '../src/db/client.js';
import { manualClock, type Clock } from '../src/lib/clock.js';
import type { MailTransport } from '../src/modules/outbox/outbox.worker.js';
import { createServices, type Services } from '../src/services.js';

export interface TestContext {
  teardown(fn: () => unknown): void;
}

export const TEST_SECRET = 'test-secret-that-is-at-least-32-characters-long';

/** A temporary folder removed when the test ends. */
export function tempDir(t: TestContext, prefix = 'convene-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function testConfig(t: TestContext, env: Record<string, string> = {}): Config {
  return loadConfig({
    DATA_DIR: tempDir(t),
    DATABASE_PATH: ':memory:',
    LOG_LEVEL: 'silent',
    MAIL_WORKER: 'false',
    TIMED_JOBS: 'false',
    SECRET_KEY: TEST_SECRET,
    PUBLIC_BASE_URL: 'https://convene.test',
    ...env,
  });
}

export function testDatabase(t: TestContext, options: { migrate?: boolean } = {}): Database_ {
  const database = openDatabase(':memory:');
  if (options.migrate !== false) migrateDatabase(database.db);
  t.teardown(() => closeDatabase(database.sqlite));
  return database;
}

export interface BuiltTestApp {
  app: FastifyInstance;
  database: Database_;
  config: Config;
  clock: Clock;
  /** The app's own service graph. */
  services: Services;
}

/**
 * An app over a fresh in-memory database (or over `database`, a file the test opened: each app
 * closes the database it is given, so a restart opens the file again).
 */
export async function buildTestApp(
  t: TestContext,
  options: { env?: Record<string, string>; clock?: Clock; transport?: MailTransport; database?: Database_ } = {},
): Promise<BuiltTestApp> {
  const config = testConfig(t, options.env);
  const database = options.database ?? openDatabase(':memory:');
  if (!options.database) migrateDatabase(database.db);
  const clock = options.clock ?? manualClock('2026-11-23T09:00:00Z');
  const services = createServices({ db: database.db, clock, config, mail: { transport: options.transport } });
  const app = await buildApp({ database, services, logger: false });
  // The app stops its mail worker, then closes the database.
  t.teardown(() => app.close());
  await app.ready();
  return { app, database, config, clock, services };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check()` holds, looking every 20 ms; throws, naming `what`, after `timeoutMs`. Returns the ms it took. */
export async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await pause(20);
  }
  return Date.now() - started;
}
