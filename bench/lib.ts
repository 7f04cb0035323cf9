// What every benchmark scenario shares: starting servers as separate processes (pinned to CPU 0 where
// taskset exists, so the load generator in this process has CPU 1), loading them with autocannon, and
// the outcome each scenario reports.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { projectRoot } from '../src/lib/paths.js';

export interface Server {
  url: string;
  info: Record<string, unknown>;
  child: ChildProcess;
  /** Everything the process wrote to stderr (checked for SQLITE_BUSY). */
  stderr: () => string;
}

export interface Measure {
  requests: number;
  p99: number;
  wrong: number;
  statuses: Record<string, number>;
  /** The load client's CPU time (autocannon runs in this process) as a share of one core over the run. */
  clientCpu: number;
}

/** One row of bench/RESULTS.md. Ratios are candidate ÷ baseline; `lowerIsBetter` for times. */
export interface Outcome {
  baseline: string;
  candidate: string;
  ratio?: number;
  p99Ratio?: number;
  goal: string;
  met: boolean;
  /** "held", or what broke. */
  gate: string;
  notes?: string;
}

export interface Scenario {
  name: string;
  run: () => Promise<Outcome>;
}

const args = process.argv.slice(2);
export const short = args.includes('--profile') && args[args.indexOf('--profile') + 1] === 'short';
export const ROUNDS = short ? 1 : 3;
export const SECONDS = short ? 1 : 5;
export const WARMUP = short ? 1 : 3;
export const haveTaskset = cpus().length > 1 && spawnSync('taskset', ['-V']).status === 0;

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Runs a TypeScript file (.ts or .tsx; or a .js/.mjs one) as its own process, pinned to CPU 0 unless `cpu` says otherwise. */
export function spawnScript(script: string, env: Record<string, string> = {}, args: string[] = [], cpu: string | null = '0'): ChildProcess {
  const command = /\.tsx?$/.test(script)
    ? [process.execPath, '--import', 'tsx', join(projectRoot, script), ...args]
    : [process.execPath, join(projectRoot, script), ...args];
  const argv = haveTaskset && cpu !== null ? ['taskset', '-c', cpu, ...command] : command;
  const child = spawn(argv[0]!, argv.slice(1), { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export interface BurstRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** The raw-socket burst client (bench/clients/burst.ts), in a process of its own on CPU 1, connected to `port`. */
export async function burstClient(port: number, connections: number) {
  const command = [process.execPath, '--import', 'tsx', join(projectRoot, 'bench/clients/burst.ts')];
  const argv = haveTaskset ? ['taskset', '-c', '1', ...command] : command;
  const child = spawn(argv[0]!, argv.slice(1), { cwd: projectRoot, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const ask = <T>(message: object) =>
    new Promise<T>((resolve, reject) => {
      child.once('message', (answer: { type: string; message?: string }) =>
        answer.type === 'error' ? reject(new Error(`burst client: ${answer.message}`)) : resolve(answer as T),
      );
      child.send(message);
    });
  await ask({ type: 'connect', port, count: connections });
  return {
    /** Every request written at once; the statuses, the drain time and the client's own CPU time meanwhile. */
    burst: (requests: BurstRequest[]) => ask<{ statuses: number[]; ms: number; cpuMs: number }>({ type: 'burst', requests }),
    close: () => child.kill(),
  };
}

/** Starts a server script and waits for the JSON line it announces itself with. */
export function start(script: string, env: Record<string, string> = {}, cpu: string | null = '0'): Promise<Server> {
  const child = spawnScript(script, env, [], cpu);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.length > 1_000_000) stderr = stderr.slice(-500_000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start in 300 s`)), 300_000);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${stderr.slice(-500)}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      const info = JSON.parse(line) as Record<string, unknown> & { url: string };
      resolve({ url: info.url, info, child, stderr: () => stderr });
    });
  });
}

export async function stop(server: Server | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
  server.child.kill('SIGKILL');
}

/** Runs autocannon for `duration` seconds (bounded), counting every answer that is not `expect`. */
export async function measure(options: autocannon.Options, expect: number | number[], connections = 10): Promise<Measure> {
  const statuses: Record<string, number> = {};
  const expected = Array.isArray(expect) ? expect : [expect];
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ connections, pipelining: 1, duration: SECONDS, timeout: 10, ...options }, (error, done) =>
      error ? reject(error) : resolve(done),
    );
    instance.on('response', (_client: unknown, status: number) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
  });
  const wrong =
    Object.entries(statuses)
      .filter(([status]) => !expected.includes(Number(status)))
      .reduce((sum, [, n]) => sum + n, 0) +
    result.errors +
    result.timeouts;
  const cpu = process.cpuUsage(cpuBefore);
  const clientCpu = (cpu.user + cpu.system) / 1000 / (performance.now() - startedAt);
  return { requests: result.requests.average, p99: result.latency.p99, wrong, statuses, clientCpu };
}

/** The client's CPU beside a result: "client CPU 35% / 60%", flagged when it came near a full core. */
export function clientCpuNote(baseline: Measure[], candidate: Measure[]): string {
  const share = (measures: Measure[]) => mean(measures.map((m) => m.clientCpu));
  const [b, c] = [share(baseline), share(candidate)];
  const saturated = Math.max(b, c) >= 0.9 ? ' (the client was saturated: the ratio is bounded by it)' : '';
  return `client CPU ${Math.round(b * 100)}% on the baseline, ${Math.round(c * 100)}% on Convene${saturated}`;
}

export const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)]!;
export const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / Math.max(values.length, 1);
export const round2 = (value: number) => Math.round(value * 100) / 100;

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export async function expectJson(url: string, check: (status: number, body: unknown) => boolean, init?: RequestInit): Promise<void> {
  const response = await fetch(url, init);
  const body = await response.json().catch(() => null);
  if (!check(response.status, body)) throw new Error(`gate failed for ${url}: ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
}

/** A gate that failed: the scenario's outcome says so, whatever its speed. */
export function broken(goal: string, reason: string): Outcome {
  return { baseline: '-', candidate: '-', goal, met: false, gate: `broken: ${reason}` };
}

/** Fails the gate if the server logged SQLITE_BUSY. */
export function checkNoBusy(server: Server): void {
  if (/SQLITE_BUSY/.test(server.stderr())) throw new Error('the server logged SQLITE_BUSY');
}

export interface Throughput {
  name: string;
  baseline: { script: string; env?: Record<string, string> };
  candidate: { script: string; env?: Record<string, string> };
  goal: { ratio: number; p99Ratio?: number };
  /** Load options for each side (path, method, body, headers), given what the servers announced. */
  load: (server: Server, side: 'baseline' | 'candidate') => autocannon.Options;
  /** Checks the candidate answers correctly before any timing; throws if not. */
  gate: (candidate: Server, baseline: Server) => Promise<void>;
  /** Status the load must get every time (200 unless said). */
  expect?: number;
}

/** A request-rate scenario: warm-up, then baseline and candidate rounds alternating, gate on every answer. */
export function throughput(spec: Throughput): Scenario {
  const goalText = `≥ ${spec.goal.ratio} ×${spec.goal.p99Ratio ? `; p99 ≤ ${spec.goal.p99Ratio} ×` : ''}`;
  return {
    name: spec.name,
    run: async () => {
      let baseline: Server | undefined;
      let candidate: Server | undefined;
      try {
        baseline = await start(spec.baseline.script, spec.baseline.env);
        candidate = await start(spec.candidate.script, spec.candidate.env);
        await spec.gate(candidate, baseline);
        const expect = spec.expect ?? 200;
        await measure({ ...spec.load(baseline, 'baseline'), duration: WARMUP }, expect);
        await measure({ ...spec.load(candidate, 'candidate'), duration: WARMUP }, expect);
        const b: Measure[] = [];
        const c: Measure[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          b.push(await measure(spec.load(baseline, 'baseline'), expect));
          c.push(await measure(spec.load(candidate, 'candidate'), expect));
        }
        checkNoBusy(candidate);
        const wrong = c.reduce((sum, m) => sum + m.wrong, 0);
        const ratio = mean(c.map((m) => m.requests)) / mean(b.map((m) => m.requests));
        // Latencies come in whole milliseconds: a p99 below 1 ms counts as 1 ms (as in the soak), or a
        // baseline answering in under a millisecond would make any candidate 1,000 times slower.
        const p99Ratio = Math.max(mean(c.map((m) => m.p99)), 1) / Math.max(mean(b.map((m) => m.p99)), 1);
        const met = ratio >= spec.goal.ratio && (!spec.goal.p99Ratio || p99Ratio <= spec.goal.p99Ratio);
        return {
          baseline: `${Math.round(mean(b.map((m) => m.requests)))} req/s, p99 ${round2(mean(b.map((m) => m.p99)))} ms`,
          candidate: `${Math.round(mean(c.map((m) => m.requests)))} req/s, p99 ${round2(mean(c.map((m) => m.p99)))} ms`,
          ratio: round2(ratio),
          p99Ratio: round2(p99Ratio),
          goal: goalText,
          met,
          gate: wrong === 0 ? 'held' : `broken: ${wrong} wrong answers ${JSON.stringify(c.map((m) => m.statuses))}`,
          notes: clientCpuNote(b, c),
        };
      } catch (error) {
        return broken(goalText, (error as Error).message);
      } finally {
        await stop(baseline);
        await stop(candidate);
      }
    },
  };
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds dist/ when it is missing or older than src/. */
export function ensureBuilt(): void {
  const server = join(projectRoot, 'dist/scripts/server.js');
  if (
    existsSync(server) &&
    statSync(server).mtimeMs >= Math.max(newestMtime(join(projectRoot, 'src')), newestMtime(join(projectRoot, 'scripts')))
  )
    return;
  const build = spawnSync('npm', ['run', 'build'], { cwd: projectRoot, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
}
