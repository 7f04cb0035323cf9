// The candidate: the real Convene app (buildApp, every plugin), on a file database seeded for one scenario.
// BENCH_SEED: "none", "huddles:<n>" (published huddles in weekly series of 50).
// BENCH_PROFILE=<file>: a CPU profile from the end of seeding until the process is stopped (bench/profile.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { migrateDatabase, openDatabase } from '../../src/db/client.js';
import { cliServices } from '../../src/cli/services.js';
import { systemClock } from '../../src/lib/clock.js';
import { announce, profileUntilExit } from './ready.js';

const dataDir = mkdtempSync(join(tmpdir(), 'convene-bench-'));
const config = loadConfig({
  DATA_DIR: dataDir,
  LOG_LEVEL: 'silent',
  SECRET_KEY: 'bench-secret-that-is-at-least-32-characters',
  PUBLIC_BASE_URL: 'https://convene.bench',
  PUBLIC_RATE_LIMIT_PER_MINUTE: '1000000',
  AUTH_FAILURE_LIMIT_PER_MINUTE: '1000000',
  FORM_RATE_LIMIT_PER_MINUTE: '1000000',
  MAIL_WORKER: 'false',
  TIMED_JOBS: 'false',
});
const database = openDatabase(config.databasePath);
migrateDatabase(database.db);
const services = cliServices(database, systemClock);
services.clusters.create({ slug: 'bench', name: 'Bench Cluster' }, { type: 'cli', label: 'bench' });
const key = services.organisers.create('bench', { email: 'organiser@bench.example', name: 'Bench' }, { type: 'cli', label: 'bench' }).apiKey;

const app = await buildApp({ config, database, logger: false });
const seed = process.env.BENCH_SEED ?? 'none';
const ids: string[] = [];
const huddles = /^huddles:(\d+)$/.exec(seed);
if (huddles) {
  const total = Number(huddles[1]);
  const start = new Date(Date.now() + 86_400_000);
  for (let made = 0; made < total; made += 50) {
    const series = await app.inject({
      method: 'POST',
      url: '/v1/clusters/bench/huddle-series',
      headers: { authorization: `Bearer ${key}` },
      payload: {
        rrule: `FREQ=WEEKLY;COUNT=${Math.min(50, total - made)}`,
        status: 'published',
        template: { title: `Huddle ${made}`, description: 'Pitches and news from the cluster.', start: new Date(start.getTime() + (made / 50) * 3_600_000).toISOString(), durationMinutes: 90, venue: { name: 'Hall', address: '1 Science Park' }, themes: ['data'] },
      },
    });
    if (series.statusCode !== 201) throw new Error(series.body);
    for (const huddle of series.json().huddles as { id: string }[]) ids.push(huddle.id);
  }
}
if (process.env.BENCH_PROFILE) await profileUntilExit(process.env.BENCH_PROFILE);
await announce(app, { key, ids: ids.slice(0, 1000), count: ids.length });
