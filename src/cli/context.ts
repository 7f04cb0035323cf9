// What every CLI command gets: config, output that honours --json, the database, and the CLI actor.
import { userInfo } from 'node:os';
import type { Config } from '../config.js';
import { closeDatabase, migrateDatabase, openDatabase, type Database_ } from '../db/client.js';
import type { Clock } from '../lib/clock.js';
import type { Actor } from '../modules/audit/audit.service.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTTY: boolean;
}

export interface CliContext {
  config: Config;
  clock: Clock;
  io: CliIo;
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

/** Opens (and migrates) the configured database for one command, and always closes it. */
export async function withDatabase<T>(context: CliContext, work: (database: Database_) => T | Promise<T>): Promise<T> {
  const database = openDatabase(context.config.databasePath);
  try {
    migrateDatabase(database.db);
    return await work(database);
  } finally {
    closeDatabase(database.sqlite);
  }
}
