// convene db migrate|backup
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from '../db/driver.js';
import type { Command } from 'commander';
import { closeDatabase, migrateDatabase, migrationState, openDatabase } from '../db/client.js';
import { output, type CliContext } from './context.js';

export class CliFailure extends Error {}

/** A failure worth retrying later (exit 75, EX_TEMPFAIL: a mail server retries the delivery). */
export class TemporaryFailure extends CliFailure {}

/** The largest step better-sqlite3 accepts: every remaining page at once. */
const ALL_REMAINING_PAGES = 0x7fffffff;

/** Opens a backup read-only and runs SQLite's integrity check on it. */
export function verifyBackup(file: string): string {
  const copy = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (copy.pragma('integrity_check', { simple: true }) as string) ?? 'unknown';
  } finally {
    copy.close();
  }
}

export function dbCommands(program: Command, context: CliContext): void {
  const db = program.command('db').description('Database maintenance');
  const jsonOf = (command: Command) => Boolean(command.optsWithGlobals<{ json?: boolean }>().json);

  db.command('migrate')
    .description('Apply any migrations the database does not have yet')
    .action((_options: unknown, command: Command) => {
      const database = openDatabase(context.config.databasePath);
      try {
        const before = migrationState(database.sqlite);
        migrateDatabase(database.db);
        const after = migrationState(database.sqlite);
        output(
          context.io,
          jsonOf(command),
          { database: context.config.databasePath, applied: after.applied - before.applied, total: after.applied },
          [`${context.config.databasePath}: applied ${after.applied - before.applied} migration(s); ${after.applied} in all.`],
        );
      } finally {
        closeDatabase(database.sqlite);
      }
    });

  db.command('backup')
    .description('Take an online backup (safe while the server runs) and verify it with an integrity check')
    .argument('<file>', 'where to write the backup')
    .option('--force', 'overwrite the file if it exists')
    .action(async (file: string, options: { force?: boolean }, command: Command) => {
      const target = resolve(file);
      if (existsSync(target) && !options.force) throw new CliFailure(`${target} exists; pass --force to overwrite it`);
      if (!existsSync(context.config.databasePath))
        throw new CliFailure(`there is no database at ${context.config.databasePath} (check DATA_DIR or DATABASE_PATH)`);
      mkdirSync(dirname(target), { recursive: true });
      const database = openDatabase(context.config.databasePath, { mustExist: true });
      try {
        // All pages in one step. SQLite restarts an online backup from the first page whenever another
        // connection commits between two steps, so with better-sqlite3's default (100 pages a step) the
        // backup of a database of a few tens of MB kept restarting, for ever, while the server wrote.
        await database.sqlite.backup(target, { progress: () => ALL_REMAINING_PAGES });
      } finally {
        closeDatabase(database.sqlite);
      }
      const integrity = verifyBackup(target);
      if (integrity !== 'ok') throw new CliFailure(`backup written to ${target} failed its integrity check: ${integrity}`);
      output(context.io, jsonOf(command), { file: target, integrity }, [`Backup written to ${target} and verified (integrity ok).`]);
    });
}
