// The candidate: the real Convene app (buildApp, every plugin), on a file database seeded for a scenario.
// BENCH_SEED, comma-separated:
//   huddles:<n>      published huddles, in weekly series of 50 (each series half an hour after the last)
//   bookings:<n>     n published huddles with 10 pitch slots, booking open, and 200 members of 200
//                    organisations with tokens (for booking bursts)
//   subscribers:<n>  n confirmed newsletter subscribers
//   dkim:1           the cluster sends as news@convene.bench and signs with its own DKIM key, also
//                    written to <dataDir>/dkim.pem for a baseline that signs the same way
// BENCH_SEND_TO=<smtp url>: the server's own mail worker and timed jobs run (each second), sending there
//                    (for a newsletter sent from the server), the worker and scheduled sends on the mail
//                    thread as `npm start` runs them (BENCH_MAIL_THREAD=false: on the main
//                    thread); without it neither runs.
// BENCH_PROFILE=<file>: a CPU profile from the end of seeding until the process is stopped (bench/profile.ts).
// Announces {url, key, dataDir, ids, count, huddles, slotted, tokens} on stdout.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { migrateDatabase, openDatabase } from '../../src/db/client.js';
import { subscribers } from '../../src/db/schema.js';
import { systemClock } from '../../src/lib/clock.js';
import { createServices } from '../../src/services.js';
import { createMailThread } from '../../src/mail-thread.js';
import { SILENT_LOGGER } from '../../src/modules/outbox/outbox.worker.js';
import { newId } from '../../src/lib/ids.js';
import { generateDkimPrivateKey } from '../../src/lib/dkim.js';
import { BENCH_ENV } from './env.js';
import { announce, profileUntilExit } from './ready.js';

const dataDir = process.env.BENCH_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'convene-bench-'));
const sendTo = process.env.BENCH_SEND_TO;
const config = loadConfig({
  ...BENCH_ENV,
  DATA_DIR: dataDir,
  ...(sendTo ? { SMTP_URL: sendTo, MAIL_WORKER: 'true', TIMED_JOBS: 'true', TIMED_JOB_INTERVAL_MS: '1000', MAIL_CONCURRENCY: '4' } : {}),
  ...(sendTo && process.env.BENCH_MAIL_THREAD ? { MAIL_THREAD: process.env.BENCH_MAIL_THREAD } : {}),
});
const database = openDatabase(config.databasePath);
migrateDatabase(database.db);
const services = createServices({ db: database.db, clock: systemClock, config });
const actor = { type: 'cli', label: 'bench' } as const;
services.clusters.create({ slug: 'bench', name: 'Bench Cluster' }, actor);
const key = services.organisers.create('bench', { email: 'organiser@bench.example', name: 'Bench' }, actor).apiKey;
const auth = { authorization: `Bearer ${key}` };

const mailRunner =
  sendTo && config.mailThread ? createMailThread({ services, sqlite: database.sqlite, logger: SILENT_LOGGER, log: false }) : undefined;
// No request log (as in the earlier runs); an SQLITE_BUSY would surface as a 5xx answer, which breaks the gates.
const app = await buildApp({ database, services, logger: false, mailRunner });
const seeds = new Map((process.env.BENCH_SEED ?? 'none').split(',').map((seed) => seed.split(':') as [string, string]));
const huddles: [string, number][] = [];
const slotted: string[] = [];
const tokens: string[] = [];

async function post(url: string, payload: unknown): Promise<Record<string, unknown>> {
  const response = await app.inject({ method: 'POST', url, headers: auth, payload: payload as Record<string, unknown> });
  if (response.statusCode !== 201) throw new Error(`${url}: ${response.body}`);
  return response.json();
}

const total = Number(seeds.get('huddles') ?? 0);
const first = Date.now() + 86_400_000;
for (let made = 0; made < total; made += 50) {
  const series = await post('/v1/clusters/bench/huddle-series', {
    rrule: `FREQ=WEEKLY;COUNT=${Math.min(50, total - made)}`,
    status: 'published',
    template: {
      title: `Huddle ${made}`,
      description: 'Pitches and news from the cluster.',
      start: new Date(first + (made / 50) * 1_800_000).toISOString(),
      durationMinutes: 90,
      venue: { name: 'Hall', address: '1 Science Park' },
      themes: ['data'],
    },
  });
  for (const huddle of series.huddles as { id: string; start: { utc: string } }[]) huddles.push([huddle.id, Date.parse(huddle.start.utc)]);
}

const bookable = Number(seeds.get('bookings') ?? 0);
if (bookable > 0) {
  const policy = await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/bench',
    headers: auth,
    payload: { bookingPolicy: { rollingLimit: null, pitchesPerOrganisationPerHuddle: 1 } },
  });
  if (policy.statusCode !== 200) throw new Error(policy.body);
  for (let i = 0; i < bookable; i++) {
    const huddle = await post('/v1/clusters/bench/huddles', {
      title: `Pitch day ${i}`,
      description: 'Ten pitches.',
      venue: { name: 'Hall', address: '1 Science Park' },
      start: new Date(Date.now() + 10 * 86_400_000 + i * 3_600_000).toISOString(),
      durationMinutes: 120,
      status: 'published',
      pitch: {
        slotCount: 10,
        slotMinutes: 5,
        changeoverMinutes: 1,
        startOffsetMinutes: 10,
        bookingOpensDaysBefore: null,
        bookingClosesHoursBefore: 48,
      },
    });
    slotted.push(huddle.id as string);
  }
  const cluster = services.clusters.get('bench');
  for (let i = 0; i < 200; i++) {
    const member = services.members.create(
      cluster,
      { email: `member${i}@org${i}.example`, name: `Member ${i}`, organisation: `Organisation ${i}`, organisationType: 'company' },
      actor,
    );
    const code = database.db.transaction((tx) => services.signIn.issueCode(tx, member.id));
    tokens.push(services.signIn.exchange(code).token);
  }
}

const readers = Number(seeds.get('subscribers') ?? 0);
if (readers > 0) {
  const clusterId = services.clusters.get('bench').id;
  const now = new Date();
  database.db.transaction((tx) => {
    for (let i = 0; i < readers; i++) {
      tx.insert(subscribers)
        .values({
          id: newId(),
          clusterId,
          email: `reader${i}@readers.example`,
          name: null,
          status: 'confirmed',
          topics: ['newsletter'],
          themes: [],
          createdAt: now,
          updatedAt: now,
          confirmedAt: now,
        })
        .run();
    }
  });
}

let dkimKeyFile: string | null = null;
if (seeds.has('dkim')) {
  services.clusters.update('bench', { sender: { name: 'Bench Cluster', address: 'news@convene.bench' } }, actor);
  const privateKey = generateDkimPrivateKey();
  services.clusters.setDkimKey('bench', { domainName: 'convene.bench', keySelector: 'bench', privateKey }, actor);
  dkimKeyFile = join(dataDir, 'dkim.pem');
  writeFileSync(dkimKeyFile, privateKey, { mode: 0o600 });
}

if (process.env.BENCH_PROFILE) await profileUntilExit(process.env.BENCH_PROFILE);
await announce(app, {
  key,
  dataDir,
  databasePath: config.databasePath,
  count: huddles.length,
  ids: huddles.slice(0, 1000).map(([id]) => id),
  huddles: huddles.length <= 10_000 ? huddles : [],
  slotted,
  tokens,
  dkimKeyFile,
});
