// What every CLI command gets: config, output that honours --json, the services over the database, and the CLI actor.
import { userInfo } from 'node:os';
import type { Config } from '../config.js';
import { closeDatabase, migrateDatabase, openDatabase, type Database_ } from '../db/client.js';
import type { Clock } from '../lib/clock.js';
import { redactText } from '../lib/logging.js';
import type { Actor } from '../modules/audit/audit.service.js';
import type { ResolveTxt } from '../modules/campaigns/campaigns.deliverability.js';
import type { MailLogger } from '../modules/outbox/outbox.worker.js';
import { createServices, type Services } from '../services.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTTY: boolean;
}

export interface CliContext {
  config: Config;
  clock: Clock;
  io: CliIo;
  /** DNS TXT lookups (the system's resolver; tests answer from their own records). */
  resolveTxt: ResolveTxt;
}

/** Prints `data` as JSON with --json, otherwise the human lines. */
export function output(io: CliIo, json: boolean, data: unknown, lines: string[]): void {
  io.stdout(json ? JSON.stringify(data, null, 2) + '\n' : lines.join('\n') + '\n');
}

export function cliActor(): Actor {
  let label = 'cli';
  try {
    label = `cli:${userInfo().username}`;
  } catch {
    // No user name (some containers): the plain label will do.
  }
  return { type: 'cli', label };
}

/** Mail workers' log lines, as plain lines on stderr (warnings and errors only). */
export function stderrLogger(io: CliIo): MailLogger {
  const line = (level: string) => (obj: object, msg?: string) => io.stderr(`${level}: ${msg ?? ''} ${redactText(JSON.stringify(obj))}\n`);
  return { debug: () => {}, info: () => {}, warn: line('warning'), error: line('error') };
}

/**
 * Opens (and migrates) the configured database and builds the services over it for one command; always closes both.
 * `mustExist`: a missing database file is an error, not a new empty database.
 */
export async function withServices<T>(
  context: CliContext,
  work: (services: Services, database: Database_) => T | Promise<T>,
  options: { mustExist?: boolean } = {},
): Promise<T> {
  const database = openDatabase(context.config.databasePath, options);
  let services: Services | undefined;
  try {
    migrateDatabase(database.db);
    services = createServices({
      db: database.db,
      clock: context.clock,
      config: context.config,
      mail: { logger: stderrLogger(context.io) },
    });
    return await work(services, database);
  } finally {
    await services?.close();
    closeDatabase(database.sqlite);
  }
}
