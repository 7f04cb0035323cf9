// The fault drills of bench/drills/, small enough for the suite: the same code with fewer requests,
// a shorter SMTP outage (with a short retry schedule), and a lease run out by the clock rather than waited for.
// The full drills: npx tsx bench/drills/<name>.ts (see bench/drills/README.md).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { runCli } from '../src/cli/index.js';
import { closeDatabase, migrateDatabase, openDatabase } from '../src/db/client.js';
import { projectRoot } from '../src/lib/paths.js';
import { backupDrill } from '../bench/drills/backup-load.js';
import { bookingCrashDrill } from '../bench/drills/booking-crash.js';
import type { DrillResult } from '../bench/drills/lib.js';
import { sigtermDrill } from '../bench/drills/sigterm-load.js';
import { smtpOutageDrill } from '../bench/drills/smtp-outage.js';
import { tempDir, TEST_SECRET } from './helper.js';

// Five server starts and a few CLI processes: can take more than the suite's 120 s per file on a busy machine.
t.setTimeout(300_000);

function expectPassed(t: Test, result: DrillResult) {
  for (const check of result.checks) t.ok(check.ok, `${check.name}: ${check.detail}`);
  t.ok(result.checks.length > 0, 'the drill ran its checks');
  t.comment(
    Object.entries(result.numbers)
      .map(([k, v]) => `${k}=${v}`)
      .join(', '),
  );
}

t.test(
  'SIGKILL during a booking storm, restart: every 201 is stored, no slot twice, every confirmation delivered',
  { timeout: 120_000 },
  async (t) => {
    const result = await bookingCrashDrill(t, {
      members: 40,
      huddles: 2,
      slotsPerHuddle: 20,
      concurrency: 16,
      killAfter: 15,
      leaseWait: 'clock',
    });
    expectPassed(t, result);
    t.ok(Number(result.numbers.bookings201) >= 15, 'the kill came once 15 bookings had been answered');
  },
);

t.test('the SMTP server away during a newsletter send: everything delivered, nothing failed for good', { timeout: 60_000 }, async (t) => {
  const result = await smtpOutageDrill(t, {
    mode: 'in-process',
    subscribers: 200,
    rate: 200,
    outageMs: 1_500,
    backoff: { baseMs: 200, maxMs: 1_000 },
    members: 0,
    memberEveryMs: 0,
  });
  expectPassed(t, result);
  t.equal(result.numbers.deliveredDuringOutage, 0, 'nothing got through while the server was away');
});

t.test('SIGTERM under load: accepted requests are answered, exit 0 within the grace period', { timeout: 60_000 }, async (t) => {
  expectPassed(t, await sigtermDrill(t, { concurrency: 16, loadMs: 1_000, slowRequests: 3, graceMs: 10_000 }));
});

t.test('a backup under write load restores to an intact database with every earlier row', { timeout: 90_000 }, async (t) => {
  expectPassed(t, await backupDrill(t, { preloadRows: 5_000, writers: 4, warmupMs: 1_000, backupTimeoutMs: 30_000 }));
});

// Regression: better-sqlite3 copies 100 pages per step by default, and SQLite restarts an online
// backup whenever another connection commits between two steps, so while the server kept writing,
// the backup of a database of a few tens of MB restarted for ever (src/cli/db.ts now copies in one step).
// The writer says `writing` only once its first row is committed, so the backup always starts after
// some of the writer's commits (before, it said so before its first insert and the backup could win).
const WRITER = `
import { openDatabase } from ${JSON.stringify(join(projectRoot, 'src/db/client.ts'))};
const { sqlite } = openDatabase(process.env.DRILL_DB);
const insert = sqlite.prepare('INSERT INTO filler (v) VALUES (?)');
insert.run('w');
process.stdout.write('writing\\n');
setInterval(() => insert.run('w'), 1);
`;

t.test('db backup finishes while another process commits every millisecond', { timeout: 60_000 }, async (t) => {
  const dataDir = tempDir(t);
  const file = join(dataDir, 'convene.db');
  const database = openDatabase(file);
  migrateDatabase(database.db);
  database.sqlite.exec('CREATE TABLE filler (v TEXT)');
  const fill = database.sqlite.prepare('INSERT INTO filler (v) VALUES (?)');
  database.sqlite.transaction(() => {
    for (let i = 0; i < 120_000; i++) fill.run('x'.repeat(200));
  })();
  closeDatabase(database.sqlite);

  const writer = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WRITER], {
    cwd: projectRoot,
    env: { ...process.env, DRILL_DB: file },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => writer.kill('SIGKILL'));
  await once(writer.stdout, 'data');
  // What is committed now, the backup must hold: the 120,000 rows and at least the writer's first.
  const reader = openDatabase(file, { mustExist: true });
  const committedBefore = (reader.sqlite.prepare('SELECT count(*) AS n FROM filler').get() as { n: number }).n;
  closeDatabase(reader.sqlite);
  t.ok(committedBefore > 120_000, `the writer had committed before the backup started (${committedBefore - 120_000} rows)`);

  let stdout = '';
  let stderr = '';
  const target = join(dataDir, 'backup.db');
  const env = { DATA_DIR: dataDir, SECRET_KEY: TEST_SECRET, LOG_LEVEL: 'silent' };
  const backup = runCli(['db', 'backup', target, '--json'], {
    env,
    io: { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), isTTY: false },
  });
  let timer: NodeJS.Timeout | undefined;
  const finished = await Promise.race([
    backup.then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 20_000))),
  ]);
  clearTimeout(timer);
  writer.kill('SIGKILL');
  // Without writes the backup completes, whichever way the race went.
  t.equal(await backup, 0, stderr);
  t.ok(finished, 'the backup finished while the writer was still committing');
  t.match(JSON.parse(stdout), { integrity: 'ok' });
  const copy = openDatabase(target);
  t.teardown(() => closeDatabase(copy.sqlite));
  const copied = (copy.sqlite.prepare('SELECT count(*) AS n FROM filler').get() as { n: number }).n;
  t.ok(copied >= committedBefore, `it holds rows the writer committed before it (${copied} of at least ${committedBefore})`);
});
