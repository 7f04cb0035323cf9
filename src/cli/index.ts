// The organiser's command line: parses arguments, runs one command, maps failures to a one-line reason and exit code.
import { Resolver } from 'node:dns/promises';
import type { ResolveTxt } from '../modules/campaigns/campaigns.deliverability.js';
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { isAppError } from '../errors.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { version } from '../lib/paths.js';
import { clusterCommands } from './cluster.js';
import { CliFailure, dbCommands, TemporaryFailure } from './db.js';
import { organiserCommands } from './organiser.js';
import { mailCommands } from './mail.js';
import { membersCommands, PartialImport } from './members.js';
import { Interrupted, newsletterCommands } from './newsletter.js';
import { subscribersCommands } from './subscribers.js';
import type { CliContext, CliIo } from './context.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, tempfail: 75, config: 78, interrupted: 130 } as const;

export interface RunOptions {
  env?: Record<string, string | undefined>;
  io?: CliIo;
  clock?: Clock;
  /** DNS TXT lookups; the system's resolver by default (3 s per try, 2 tries). */
  resolveTxt?: ResolveTxt;
}

function systemResolveTxt(): ResolveTxt {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  return (name) => resolver.resolveTxt(name);
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isTTY: Boolean(process.stdout.isTTY),
};

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function runCli(argv: string[], options: RunOptions = {}): Promise<number> {
  const io = options.io ?? processIo;
  const program = new Command('convene')
    .description('Convene: huddles, pitch slots, calendars and newsletters for innovation clusters')
    .version(version)
    .option('--json', 'print machine-readable JSON')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  // Config is read on first use, so --help works even with a bad environment.
  let config: Config | undefined;
  const context: CliContext = {
    get config() {
      return (config ??= loadConfig(options.env));
    },
    clock: options.clock ?? systemClock,
    io,
    resolveTxt: options.resolveTxt ?? systemResolveTxt(),
  };
  clusterCommands(program, context);
  organiserCommands(program, context);
  membersCommands(program, context);
  newsletterCommands(program, context);
  subscribersCommands(program, context);
  mailCommands(program, context);
  dbCommands(program, context);
  for (const command of program.commands) command.exitOverride();

  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof ConfigError) {
      io.stderr(`error: ${error.message}\n`);
      return EXIT.config;
    }
    if (isAppError(error)) {
      io.stderr(`error: ${error.message} (${error.code})\n`);
      return EXIT.failed;
    }
    if (error instanceof PartialImport) return EXIT.failed;
    if (error instanceof Interrupted) return EXIT.interrupted;
    if (error instanceof CliFailure) {
      io.stderr(`error: ${error.message}\n`);
      return error instanceof TemporaryFailure ? EXIT.tempfail : EXIT.failed;
    }
    io.stderr(`error: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`);
    return EXIT.failed;
  }
}
