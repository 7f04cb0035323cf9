// convene mail ingest: a bounce, an abuse report or a reply to the mailto unsubscribe, from a file or
// from standard input (a mailbox's pipe: `| convene mail ingest -`), acted on as the inbound listener would.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { MAX_REPORT_BYTES } from '../modules/bounces/bounces.service.js';
import { CliFailure, TemporaryFailure } from './db.js';
import { output, withServices, type CliContext } from './context.js';

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_REPORT_BYTES) chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function mailCommands(program: Command, context: CliContext): void {
  const mail = program.command('mail').description('Mail that comes back: bounces, complaints, unsubscribe replies');

  mail
    .command('ingest')
    .description(
      'Read one message (an .eml file, or - for standard input) that came back: a bounce (RFC 3464), an abuse report ' +
        '(ARF) or a reply to the mailto unsubscribe; suppress, count or unsubscribe as it says. Exit 0 also when it is none of ' +
        'those; 75 (try again later) when the database is missing or busy.',
    )
    .argument('<file>', 'the message, or - to read standard input')
    .option(
      '--recipient <address...>',
      'the envelope recipient(s), when the message has no Delivered-To header (e.g. $RECIPIENT in a pipe)',
    )
    .action(async (file: string, options: { recipient?: string[] }, command: Command) => {
      const json = Boolean(command.optsWithGlobals<{ json?: boolean }>().json);
      let raw: Buffer;
      try {
        raw = file === '-' ? await readStdin() : await readFile(file);
      } catch (error) {
        throw new CliFailure(`cannot read ${file}: ${(error as Error).message}`);
      }
      const missing = `there is no database at ${context.config.databasePath}: check DATA_DIR or DATABASE_PATH (the mail server will try again)`;
      if (!existsSync(context.config.databasePath)) throw new TemporaryFailure(missing);
      try {
        // The database must be there already: a wrong DATA_DIR in a mailbox's pipe must fail loudly, not
        // act on an empty database and lose every bounce.
        await withServices(
          context,
          async (services) => {
            const { outcomes, ignored } = await services.bounces.ingest(raw, { via: 'ingest', recipients: options.recipient ?? [] });
            const lines = ignored
              ? [`Nothing to do: ${ignored}.`]
              : outcomes.map((outcome) => `${outcome.kind}${outcome.email ? ` for ${outcome.email}` : ''}: ${outcome.result}`);
            output(context.io, json, { outcomes, ...(ignored ? { ignored } : {}) }, lines);
          },
          { mustExist: true },
        );
      } catch (error) {
        // Mail servers retry a delivery whose pipe exits with EX_TEMPFAIL; the report is not lost.
        const { code } = error as { code?: unknown };
        if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_BUSY')
          throw new TemporaryFailure(code === 'SQLITE_BUSY' ? 'the database is busy: try again' : missing);
        throw error;
      }
    });
}
