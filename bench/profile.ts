// Profiles the candidate server under one load: starts bench/servers/app.ts (profiling from the end of its seeding), loads it
// with autocannon, stops it and prints the functions with the most self time (and the profile's path).
//   npx tsx bench/profile.ts --path /healthz [--seed huddles:500] [--seconds 6] [--header 'if-none-match: {etag}']
//   npx tsx bench/profile.ts --method POST --path /v1/clusters/bench/subscriptions --body '{"email":"x{n}@example.org"}'
// "{n}" in the body is a counter (unique requests); "{random}" in the path one of the seeded huddle ids;
// "{etag}" in a header the ETag the path answers with at the start.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { projectRoot } from '../src/lib/paths.js';

const { values } = parseArgs({
  options: {
    path: { type: 'string', default: '/healthz' },
    seed: { type: 'string', default: 'none' },
    seconds: { type: 'string', default: '6' },
    method: { type: 'string', default: 'GET' },
    body: { type: 'string' },
    header: { type: 'string', multiple: true, default: [] },
    top: { type: 'string', default: '25' },
  },
});

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const dir = mkdtempSync(join(tmpdir(), 'convene-prof-'));
const file = join(dir, 'app.cpuprofile');
const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'bench/servers/app.ts')], {
  cwd: projectRoot,
  env: { ...process.env, BENCH_SEED: values.seed, BENCH_PROFILE: file },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const info = await new Promise<{ url: string; ids: string[] }>((resolve) =>
  createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line))),
);
let n = 0;
const path = values.path.replace('{id}', () => info.ids[0] ?? '');
// "{etag}" in a header is the ETag the path answers with now (for conditional GETs).
const etag = (await fetch(info.url + path)).headers.get('etag') ?? '';
const headers = Object.fromEntries(values.header.map((h) => h.replace('{etag}', etag).split(/:\s*/, 2) as [string, string]));
const result = await autocannon({
  url: info.url,
  connections: 10,
  duration: Number(values.seconds),
  requests: [
    {
      method: values.method as 'GET',
      path,
      headers: { ...(values.body ? { 'content-type': 'application/json' } : {}), ...headers },
      setupRequest: (request) => ({
        ...request,
        path: path.replace('{random}', () => info.ids[Math.floor(Math.random() * info.ids.length)] ?? ''),
        ...(values.body ? { body: values.body.replaceAll('{n}', String((n += 1))) } : {}),
      }),
    },
  ],
});
process.stdout.write(`${Math.round(result.requests.average)} req/s, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}\n`);
await new Promise((resolve) => {
  child.once('exit', resolve);
  child.kill('SIGTERM');
});
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[] };
const hits = new Map<number, number>();
for (const sample of profile.samples) hits.set(sample, (hits.get(sample) ?? 0) + 1);
const byFunction = new Map<string, number>();
for (const node of profile.nodes) {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^.*node_modules\//, '').replace(`file://${projectRoot}/`, '');
  const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + (hits.get(node.id) ?? 0));
}
const total = profile.samples.length;
for (const [key, count] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
  process.stdout.write(`${((100 * count) / total).toFixed(1).padStart(5)}%  ${key}\n`);
}
process.stdout.write(`profile: ${file}\n`);
