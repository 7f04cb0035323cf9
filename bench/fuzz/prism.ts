// The contract fuzz over real HTTP, through Prism's validating proxy (by hand; see bench/FUZZ.md).
// The app listens on 127.0.0.1 (same setup as test/contract-fuzz.test.ts), Prism proxies to it, and
// every answer must pass the test's checks and carry no Prism violation (the `sl-violations` header).
//   npx tsx bench/fuzz/prism.ts            FUZZ_RUNS (per operation, default 40), FUZZ_SEED,
//   PRISM=/tmp/prism/node_modules/.bin/prism (default: npx -y -p @stoplight/prism-cli@5 prism),
//   FUZZ_MINUTES (time bound, default 120), PRISM_LOG (Prism's log, default $TMPDIR/convene-prism.log).
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { projectRoot } from '../../src/lib/paths.js';
import { buildTestApp } from '../../test/helper.js';
import { contractProblem, fuzzEnv, fuzzTargets, operations, requestsFor, type FuzzRequest } from '../../test/helpers/fuzz.js';
import { changedInTransit, judgeViolations } from './judge.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const deadline = Date.now() + Number(process.env.FUZZ_MINUTES ?? 120) * 60_000;
const prism = process.env.PRISM ? [process.env.PRISM] : ['npx', '-y', '-p', '@stoplight/prism-cli@5', 'prism'];
const print = (line: string) => process.stdout.write(`${line}\n`);

const teardowns: (() => unknown)[] = [];
const built = await buildTestApp({ teardown: (fn) => teardowns.unshift(fn) }, { env: fuzzEnv });
const appUrl = await built.app.listen({ host: '127.0.0.1', port: 0 });

const port = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as AddressInfo;
    probe.close(() => resolve(port));
  });
});
const version = spawnSync(prism[0]!, [...prism.slice(1), '--version'], { encoding: 'utf8' }).stdout.trim();
const logFile = process.env.PRISM_LOG ?? join(tmpdir(), 'convene-prism.log');
// No --errors: with it Prism answers an invalid request itself (422) instead of forwarding it, and
// replaces a violating answer with its own 500; without it, everything reaches the app and every
// violation is reported in the `sl-violations` header (and logged).
const child = spawn(
  prism[0]!,
  [
    ...prism.slice(1),
    'proxy',
    join(projectRoot, 'openapi/openapi.json'),
    appUrl,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '-v',
    'warn',
  ],
  { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
);
const log = createWriteStream(logFile);
child.stdout.pipe(log, { end: false });
child.stderr.pipe(log, { end: false });
const running = () => child.exitCode === null && child.signalCode === null;
const stopPrism = () => {
  if (running() && child.pid) process.kill(-child.pid, 'SIGTERM');
};
process.on('exit', stopPrism);
const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; i += 1) {
  if (
    await fetch(`${base}/healthz`).then(
      () => true,
      () => false,
    )
  )
    break;
  if (i > 1200 || !running()) throw new Error(`Prism did not start; see ${logFile}`);
  await new Promise((resolve) => setTimeout(resolve, 100));
}
print(`Prism ${version} on ${base} -> app on ${appUrl}; ${RUNS} runs per operation, seed ${SEED}; Prism log ${logFile}`);

let sent = 0;
let timedOut = false;
const failures = new Map<string, { count: number; example: string }>();
const tally = new Map<string, number>();
const skipped = new Map<string, number>();
const notes = new Map<string, string>();
const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
function fail(key: string, example: string) {
  const known = failures.get(key);
  if (known) known.count += 1;
  else {
    failures.set(key, { count: 1, example });
    print(`FAIL ${key}\n  ${example.slice(0, 600)}`);
  }
}

async function send(request: FuzzRequest) {
  const response = await fetch(base + request.url, {
    method: request.method,
    headers: request.headers,
    signal: AbortSignal.timeout(30_000),
    ...(request.payload !== undefined ? { body: request.payload } : {}),
  });
  return { statusCode: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
}

const started = Date.now();
const targets = fuzzTargets(built);
for (const { path, method, operation } of operations()) {
  const { known, credentials } = await targets();
  const before = sent;
  await fc.assert(
    fc.asyncProperty(requestsFor(path, method, operation, known, credentials), async (request) => {
      if (Date.now() > deadline) return void (timedOut = true);
      const skip = changedInTransit(request);
      if (skip) return void count(skipped, skip);
      sent += 1;
      const id = operation.operationId;
      try {
        const response = await send(request);
        const problem = contractProblem(operation, request, response);
        if (problem) fail(`${id}: ${problem.split(':')[0]}`, problem);
        const judged = judgeViolations(response);
        count(tally, judged.outcome);
        if (judged.outcome.startsWith('valid by the document') && !notes.has(id))
          notes.set(
            id,
            `${request.method} ${request.url.slice(0, 200)} ${request.payload?.slice(0, 300) ?? ''} -> ${response.body.slice(0, 300)}`,
          );
        for (const violation of judged.failures)
          fail(
            `${id}: ${violation}`,
            `${request.method} ${request.url.slice(0, 200)} ${request.payload?.slice(0, 200) ?? ''} -> ${response.statusCode} ` +
              `${response.body.slice(0, 200)}`,
          );
      } catch (error) {
        fail(`${id}: no answer`, `${request.method} ${request.url.slice(0, 200)}: ${String(error)}`);
      }
    }),
    { numRuns: RUNS, seed: SEED },
  );
  print(`${operation.operationId}: ${sent - before} requests (${sent} in all, ${Math.round((Date.now() - started) / 1000)} s)`);
}

const seconds = Math.round((Date.now() - started) / 1000);
print(
  `\n${sent} requests in ${seconds} s through Prism ${version}, seed ${SEED}, ${RUNS} runs per ` +
    `operation${timedOut ? ', STOPPED at the time bound' : ''}`,
);
print(`Prism's view of the requests: ${[...tally].map(([k, v]) => `${k} ${v}`).join(', ')}`);
print(`Not sent, Prism would change them: ${[...skipped].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
print(
  `Valid by the document but refused as VALIDATION_FAILED, first of each ` +
    `operation:${[...notes].map(([id, example]) => `\n  ${id}: ${example}`).join('')}`,
);
stopPrism();
if (running()) await once(child, 'close');
await new Promise((resolve) => log.end(resolve));
// Prism also logs every violation: its log must agree that no answer broke the document.
const logged = readFileSync(logFile, 'utf8')
  .split('\n')
  .filter((line) => line.includes('Violation: response')).length;
if (logged > 0 && ![...failures.keys()].some((key) => key.includes('response violation')))
  fail('Prism log', `${logged} response violations in ${logFile}`);
print(`Prism's log: ${logged} response violations`);
print(`${failures.size} distinct failures${[...failures].map(([key, { count }]) => `\n  ${count} x ${key}`).join('')}`);
for (const fn of teardowns) await fn();
process.exit(failures.size > 0 || timedOut ? 1 : 0);
