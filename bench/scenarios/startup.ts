// Start-up: from spawning `node dist/scripts/server.js` (what `npm start` runs) on a migrated database
// to the first 200 from /readyz, against plain Node with Fastify and a database (bench/baselines/startup.mjs).
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { broken, ensureBuilt, percentile, round2, short, spawnScript, type Outcome, type Scenario } from '../lib.js';
import { BENCH_ENV } from '../servers/env.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Milliseconds from spawn to the first 200 from /readyz; then stops the process (SIGTERM, must exit 0). */
async function timeToReady(script: string, env: Record<string, string>): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawnScript(script, { ...env, PORT: String(port), HOST: '127.0.0.1' });
  child.stdout!.resume();
  child.stderr!.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode} before it was ready`);
    if (performance.now() - started > 60_000) throw new Error(`${script} was not ready in 60 s`);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const ms = performance.now() - started;
  child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) throw new Error(`${script} exited with ${code} on SIGTERM`);
  return ms;
}

const median = (values: number[]) => percentile(values, 50);

export const startupScenario: Scenario = {
  name: 'start-up to /readyz',
  run: async (): Promise<Outcome> => {
    const goal = '≤ 1.5 × (ratio of times)';
    try {
      ensureBuilt();
      const dataDir = mkdtempSync(join(tmpdir(), 'convene-bench-'));
      const env = { ...BENCH_ENV, DATA_DIR: dataDir };
      // The first start migrates the new database; the measured starts open a migrated one.
      await timeToReady('dist/scripts/server.js', env);
      const b: number[] = [];
      const c: number[] = [];
      for (let round = 0; round < (short ? 2 : 7); round++) {
        b.push(await timeToReady('bench/baselines/startup.mjs', env));
        c.push(await timeToReady('dist/scripts/server.js', env));
      }
      const ratio = median(c) / median(b);
      return {
        baseline: `median ${round2(median(b))} ms`,
        candidate: `median ${round2(median(c))} ms`,
        ratio: round2(ratio),
        goal,
        met: ratio <= 1.5,
        gate: 'held',
        notes: `${c.length} starts each, alternating; every start answered /readyz 200 and exited 0 on SIGTERM`,
      };
    } catch (error) {
      return broken(goal, (error as Error).message);
    }
  },
};
