// npm run bench: every scenario as a ratio against a baseline run in the same invocation.
// Baseline and candidate servers run as separate processes (pinned to CPU 0 with taskset where it
// exists; the load generator, this process, to CPU 1). Rounds alternate B, C, B, C after a warm-up.
// Each scenario checks its correctness gate first, and again on every response during the load.
//   npm run bench                      full run: bench/results/<node>.json and bench/RESULTS.md
//   npm run bench -- --profile short   a few seconds per scenario; fails only on a broken gate (CI)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { projectRoot } from '../src/lib/paths.js';

interface Server {
  url: string;
  info: Record<string, unknown>;
  child: ChildProcess;
}

interface Measure {
  requests: number;
  p99: number;
  non2xx: number;
  errors: number;
  statuses: Record<string, number>;
}

interface Scenario {
  name: string;
  baseline: { script: string; env?: Record<string, string> };
  candidate: { script: string; env?: Record<string, string> };
  goal: { ratio: number; p99Ratio?: number };
  /** Load options for each side (path, method, body, headers), given what the servers told us. */
  load: (server: Server, side: 'baseline' | 'candidate') => autocannon.Options;
  /** Checks the candidate answers correctly before any timing; throws if not. */
  gate: (candidate: Server) => Promise<void>;
  /** Status the load must get every time (200 unless said). */
  expect?: number;
}

const args = process.argv.slice(2);
const short = args.includes('--profile') && args[args.indexOf('--profile') + 1] === 'short';
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const ROUNDS = short ? 1 : 3;
const SECONDS = short ? 1 : 5;
const WARMUP = short ? 1 : 3;
const haveTaskset = cpus().length > 1 && spawnSync('taskset', ['-V']).status === 0;

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function start(script: string, env: Record<string, string> = {}): Promise<Server> {
  const command = [process.execPath, '--import', 'tsx', join(projectRoot, script)];
  const argv = haveTaskset ? ['taskset', '-c', '0', ...command] : command;
  const child = spawn(argv[0]!, argv.slice(1), { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start in 120 s`)), 120_000);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      const info = JSON.parse(line) as Record<string, unknown> & { url: string };
      resolve({ url: info.url, info, child });
    });
  });
}

async function stop(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
  server.child.kill('SIGKILL');
}

async function measure(options: autocannon.Options, expect: number): Promise<Measure> {
  const statuses: Record<string, number> = {};
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({ connections: 10, pipelining: 1, duration: SECONDS, ...options }, (error, done) => (error ? reject(error) : resolve(done)));
    instance.on('response', (_client: unknown, status: number) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
  });
  const wrong = Object.entries(statuses).filter(([status]) => Number(status) !== expect).reduce((sum, [, n]) => sum + n, 0);
  return { requests: result.requests.average, p99: result.latency.p99, non2xx: wrong, errors: result.errors + result.timeouts, statuses };
}

const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)]!;

async function expectJson(url: string, check: (status: number, body: unknown) => boolean, init?: RequestInit) {
  const response = await fetch(url, init);
  const body = await response.json().catch(() => null);
  if (!check(response.status, body)) throw new Error(`gate failed for ${url}: ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
}

const scenarios: Scenario[] = [
  {
    name: 'healthz through the full plugin stack',
    baseline: { script: 'bench/baselines/hello.ts' },
    candidate: { script: 'bench/servers/app.ts' },
    goal: { ratio: 0.95 },
    load: (server) => ({ url: `${server.url}/healthz` }),
    gate: (candidate) => expectJson(`${candidate.url}/healthz`, (status, body) => status === 200 && (body as { status?: string }).status === 'ok'),
  },
  {
    name: 'GET one huddle (random of 10,000)',
    baseline: { script: 'bench/baselines/read.ts' },
    candidate: { script: 'bench/servers/app.ts', env: { BENCH_SEED: 'huddles:10000' } },
    goal: { ratio: 0.9, p99Ratio: 1.2 },
    load: (server, side) => {
      const ids = server.info.ids as string[];
      const path = side === 'baseline' ? '/items/' : '/v1/huddles/';
      return { url: server.url, requests: [{ setupRequest: (request) => ({ ...request, path: path + pick(ids) }) }] };
    },
    gate: async (candidate) => {
      if (candidate.info.count !== 10_000) throw new Error(`seeded ${String(candidate.info.count)} huddles, not 10,000`);
      const id = (candidate.info.ids as string[])[0]!;
      await expectJson(`${candidate.url}/v1/huddles/${id}`, (status, body) => status === 200 && (body as { id?: string }).id === id && !('onlineUrl' in (body as object)));
    },
  },
  {
    name: 'newsletter sign-up, unique addresses',
    baseline: { script: 'bench/baselines/insert.ts' },
    candidate: { script: 'bench/servers/app.ts' },
    goal: { ratio: 0.85 },
    expect: 202,
    load: (server, side) => {
      let n = 0;
      const run = `${process.pid}-${Date.now()}`;
      const path = side === 'baseline' ? '/signups' : '/v1/clusters/bench/subscriptions';
      return {
        url: server.url,
        requests: [{ method: 'POST', path, headers: { 'content-type': 'application/json' }, setupRequest: (request) => ({ ...request, body: JSON.stringify({ email: `reader-${run}-${(n += 1)}@example.org` }) }) }],
      };
    },
    gate: (candidate) =>
      expectJson(`${candidate.url}/v1/clusters/bench/subscriptions`, (status, body) => status === 202 && (body as { status?: string }).status === 'pending-confirmation', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'gate@example.org' }),
      }),
  },
  {
    name: 'public feed of 500 huddles, conditional GET',
    baseline: { script: 'bench/baselines/static.ts' },
    candidate: { script: 'bench/servers/app.ts', env: { BENCH_SEED: 'huddles:500' } },
    goal: { ratio: 0.9 },
    expect: 304,
    load: (server, side) => ({ url: server.url + (side === 'baseline' ? '/calendar.ics' : '/v1/clusters/bench/calendar.ics'), headers: { 'if-none-match': String(server.info.etag) } }),
    gate: async (candidate) => {
      const response = await fetch(`${candidate.url}/v1/clusters/bench/calendar.ics`);
      const body = await response.text();
      const events = body.match(/BEGIN:VEVENT/g)?.length ?? 0;
      if (response.status !== 200 || events < 400) throw new Error(`feed gate: ${response.status}, ${events} events`);
      candidate.info.etag = response.headers.get('etag');
      const again = await fetch(`${candidate.url}/v1/clusters/bench/calendar.ics`, { headers: { 'if-none-match': String(candidate.info.etag) } });
      if (again.status !== 304) throw new Error(`feed gate: conditional GET answered ${again.status}`);
    },
  },
  {
    name: 'public feed of 500 huddles, warm',
    baseline: { script: 'bench/baselines/static.ts' },
    candidate: { script: 'bench/servers/app.ts', env: { BENCH_SEED: 'huddles:500' } },
    goal: { ratio: 0.9 },
    load: (server, side) => ({ url: server.url + (side === 'baseline' ? '/calendar.ics' : '/v1/clusters/bench/calendar.ics') }),
    gate: async (candidate) => {
      const first = await (await fetch(`${candidate.url}/v1/clusters/bench/calendar.ics`)).text();
      const second = await (await fetch(`${candidate.url}/v1/clusters/bench/calendar.ics`)).text();
      if (first !== second || !first.startsWith('BEGIN:VCALENDAR')) throw new Error('feed gate: the cached feed is not byte-identical');
    },
  },
];

const results: Record<string, unknown>[] = [];
let broken = 0;
for (const scenario of scenarios.filter((s) => !only || s.name.includes(only))) {
  let baseline: Server | undefined;
  let candidate: Server | undefined;
  try {
    baseline = await start(scenario.baseline.script, scenario.baseline.env);
    candidate = await start(scenario.candidate.script, scenario.candidate.env);
    await scenario.gate(candidate);
    if (scenario.name.includes('conditional')) {
      // The baseline's 304 needs its own ETag.
      baseline.info.etag = (await fetch(`${baseline.url}/calendar.ics`)).headers.get('etag');
    }
    const expect = scenario.expect ?? 200;
    await measure({ ...scenario.load(baseline, 'baseline'), duration: WARMUP }, expect);
    await measure({ ...scenario.load(candidate, 'candidate'), duration: WARMUP }, expect);
    const b: Measure[] = [];
    const c: Measure[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      b.push(await measure(scenario.load(baseline, 'baseline'), expect));
      c.push(await measure(scenario.load(candidate, 'candidate'), expect));
    }
    const mean = (list: Measure[], key: 'requests' | 'p99') => list.reduce((sum, m) => sum + m[key], 0) / list.length;
    const wrong = c.reduce((sum, m) => sum + m.non2xx + m.errors, 0);
    const ratio = mean(c, 'requests') / mean(b, 'requests');
    const p99Ratio = mean(c, 'p99') / Math.max(mean(b, 'p99'), 0.001);
    const met = ratio >= scenario.goal.ratio && (!scenario.goal.p99Ratio || p99Ratio <= scenario.goal.p99Ratio);
    if (wrong > 0) broken += 1;
    results.push({ scenario: scenario.name, baselineRps: Math.round(mean(b, 'requests')), candidateRps: Math.round(mean(c, 'requests')), ratio: +ratio.toFixed(2), p99Ratio: +p99Ratio.toFixed(2), goal: scenario.goal, met, gate: wrong === 0 ? 'held' : `broken: ${wrong} wrong answers ${JSON.stringify(c.map((m) => m.statuses))}` });
    process.stdout.write(`${wrong === 0 ? 'ok' : 'GATE BROKEN'}  ${scenario.name}: ${ratio.toFixed(2)} x baseline (${Math.round(mean(c, 'requests'))} vs ${Math.round(mean(b, 'requests'))} req/s), p99 ${p99Ratio.toFixed(2)} x; goal ${scenario.goal.ratio}${met ? '' : ' (missed)'}\n`);
  } catch (error) {
    broken += 1;
    results.push({ scenario: scenario.name, gate: `broken: ${(error as Error).message}` });
    process.stdout.write(`GATE BROKEN  ${scenario.name}: ${(error as Error).message}\n`);
  } finally {
    if (baseline) await stop(baseline);
    if (candidate) await stop(candidate);
  }
}

if (!short && !only) {
  mkdirSync(join(projectRoot, 'bench/results'), { recursive: true });
  const machine = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? '?', taskset: haveTaskset, rounds: ROUNDS, seconds: SECONDS, at: new Date().toISOString() };
  writeFileSync(join(projectRoot, `bench/results/node${process.versions.node.split('.')[0]}.json`), JSON.stringify({ machine, results }, null, 2) + '\n');
  const files = ['node20', 'node24'].map((name) => join(projectRoot, `bench/results/${name}.json`)).filter(existsSync);
  const lines = ['# Benchmark results', '', 'Each ratio is candidate ÷ baseline from the same run (rounds alternate baseline and candidate after a warm-up). Regenerate with `npm run bench` on each Node version.', ''];
  for (const file of files) {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { machine: typeof machine; results: { scenario: string; baselineRps?: number; candidateRps?: number; ratio?: number; p99Ratio?: number; goal?: { ratio: number }; met?: boolean; gate: string }[] };
    lines.push(`## Node ${data.machine.node} (${data.machine.cpus} × ${data.machine.cpu}; ${data.machine.rounds} rounds × ${data.machine.seconds} s; taskset ${data.machine.taskset ? 'yes' : 'no'}; ${data.machine.at})`, '');
    lines.push('| scenario | baseline req/s | candidate req/s | ratio | p99 ratio | goal | gate |', '|---|---|---|---|---|---|---|');
    for (const r of data.results) lines.push(`| ${r.scenario} | ${r.baselineRps ?? '-'} | ${r.candidateRps ?? '-'} | ${r.ratio ?? '-'}${r.met === false ? ' (missed)' : ''} | ${r.p99Ratio ?? '-'} | ≥ ${r.goal?.ratio ?? '-'} | ${r.gate} |`);
    lines.push('');
  }
  const findings = join(projectRoot, 'bench/FINDINGS.md');
  if (existsSync(findings)) lines.push(readFileSync(findings, 'utf8'));
  writeFileSync(join(projectRoot, 'bench/RESULTS.md'), lines.join('\n'));
}
process.stdout.write(`${broken === 0 ? 'every correctness gate held' : `${broken} scenario(s) broke their gate`}\n`);
process.exitCode = broken === 0 ? 0 : 1;
