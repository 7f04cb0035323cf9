// Shared parts of the fault drills: the real server and CLI as child processes, a data folder, the
// checks a drill records, and the runner that prints the summary and sets the exit code.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { settings } from '../../src/config.js';
import { projectRoot } from '../../src/lib/paths.js';
import { tempDir, TEST_SECRET } from '../../test/helper.js';
import type { SmtpSink } from '../../test/helpers/smtp.js';

export const root = projectRoot;

/** Whatever owns the clean-up: a tap test, or the Teardowns of a script run. */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Clean-up for a script run: runs every registered function, last first, once. */
export class Teardowns implements Teardown {
  private fns: (() => unknown)[] = [];
  teardown(fn: () => unknown): void {
    this.fns.push(fn);
  }
  async run(): Promise<void> {
    for (const fn of this.fns.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // Clean-up goes on whatever one step did.
      }
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `done` until it is true or `timeoutMs` passes; resolves to whether it became true. */
export async function waitUntil(done: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

/** A temporary folder, removed at the end. */
export function tempDataDir(t: Teardown): string {
  return tempDir(t, 'convene-drill-');
}

/** Settings for a drill's server and CLI: only these Convene variables, whatever the caller's environment holds. */
export function drillEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATA_DIR: dataDir,
    SECRET_KEY: TEST_SECRET,
    PUBLIC_BASE_URL: 'https://convene.test',
    LOG_LEVEL: 'info',
    TIMED_JOBS: 'false',
    // Drills load the server on purpose, from one key: its per-key write limit would turn the load into 429s.
    WRITE_RATE_LIMIT_PER_MINUTE: '1000000',
    ...extra,
  };
}

function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(settings)) delete base[name];
  return { ...base, ...env };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  /** Every line the server wrote on stdout and stderr so far (JSON log lines, mostly). */
  lines: string[];
  exited: Promise<Exit>;
  /** Sends a signal and resolves with the exit, or undefined if it has not exited within `timeoutMs`. */
  stop(signal: NodeJS.Signals, timeoutMs?: number): Promise<Exit | undefined>;
}

function exitOf(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

export async function raceExit(exited: Promise<Exit>, timeoutMs: number): Promise<Exit | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  try {
    return await Promise.race([exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts scripts/server.ts as its own node process on a free port and waits until it listens. */
export async function startServer(t: Teardown, env: Record<string, string>, startTimeoutMs = 60_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/server.ts')], {
    cwd: root,
    env: childEnv({ ...env, HOST: '127.0.0.1', PORT: '0' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = exitOf(child);
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const lines: string[] = [];
  const collect = (stream: NodeJS.ReadableStream) => {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
    });
    stream.on('end', () => partial && lines.push(partial));
  };
  collect(child.stdout!);
  collect(child.stderr!);
  let port = 0;
  const listening = await waitUntil(
    () => {
      const found = lines.map((line) => /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(line)).find(Boolean);
      if (found) port = Number(found[1]);
      return Boolean(found) || child.exitCode !== null || child.signalCode !== null;
    },
    startTimeoutMs,
    25,
  );
  if (!listening || port === 0) {
    child.kill('SIGKILL');
    throw new Error(`the server did not start: ${lines.slice(-10).join('\n')}`);
  }
  return {
    child,
    pid: child.pid!,
    port,
    url: `http://127.0.0.1:${port}`,
    lines,
    exited,
    async stop(signal, timeoutMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return raceExit(exited, timeoutMs);
    },
  };
}

export interface CliRun extends Exit {
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `convene <args>` (scripts/convene.ts) as its own process; SIGKILLed after `timeoutMs`. */
export function startCli(t: Teardown, args: string[], env: Record<string, string>, timeoutMs = 120_000) {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts/convene.ts'), ...args], {
    cwd: root,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = exitOf(child);
  t.teardown(async () => {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const done: Promise<CliRun> = exited.then((exit) => {
    clearTimeout(timer);
    return { ...exit, stdout, stderr, ms: Date.now() - started };
  });
  return { child, done };
}

/** The JSON a `--json` command printed, or what it wrote instead (for the check's detail). */
export function jsonOutput(run: CliRun): Record<string, unknown> {
  try {
    return JSON.parse(run.stdout) as Record<string, unknown>;
  } catch {
    return { stdout: run.stdout.slice(0, 300), stderr: run.stderr.slice(-300) };
  }
}

/** Copies received by each recipient whose address starts with `prefix` (reader..., member...). */
export function recipients(sink: SmtpSink, prefix: string): Map<string, number> {
  const copies = new Map<string, number>();
  for (const m of sink.messages) {
    const to = m.envelope.to[0] ?? '';
    if (to.startsWith(prefix)) copies.set(to, (copies.get(to) ?? 0) + 1);
  }
  return copies;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** What a drill found: named checks, and the numbers behind them. */
export class DrillResult {
  readonly checks: Check[] = [];
  readonly numbers: Record<string, number | string> = {};

  constructor(readonly name: string) {}

  check(name: string, ok: boolean, detail = ''): boolean {
    this.checks.push({ name, ok, detail });
    return ok;
  }

  note(values: Record<string, number | string>): void {
    Object.assign(this.numbers, values);
  }

  get ok(): boolean {
    return this.checks.length > 0 && this.checks.every((c) => c.ok);
  }

  summary(): string {
    const lines = [`${this.ok ? 'PASS' : 'FAIL'} ${this.name}`];
    for (const c of this.checks) lines.push(`  ${c.ok ? 'ok    ' : 'NOT OK'} ${c.name}${c.detail ? `: ${c.detail}` : ''}`);
    const numbers = Object.entries(this.numbers).map(([k, v]) => `${k}=${v}`);
    if (numbers.length) lines.push(`  numbers: ${numbers.join(', ')}`);
    return lines.join('\n');
  }
}

/** True when this module is the script node was asked to run (not imported by a test). */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && moduleUrl === pathToFileURL(process.argv[1]).href;
}

/** Runs a drill as a script: bounded by `budgetMs`, prints the summary, exits 0 (passed) or 1. */
export async function runDrill(budgetMs: number, drill: (t: Teardown) => Promise<DrillResult>): Promise<never> {
  const teardowns = new Teardowns();
  let timer: NodeJS.Timeout | undefined;
  const overtime = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the drill ran over its ${Math.round(budgetMs / 1000)} s budget`)), budgetMs);
  });
  let code = 1;
  try {
    const result = await Promise.race([drill(teardowns), overtime]);
    process.stdout.write(`${result.summary()}\n`);
    code = result.ok ? 0 : 1;
  } catch (error) {
    process.stdout.write(`FAIL: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  } finally {
    clearTimeout(timer);
    await teardowns.run();
  }
  process.exit(code);
}
