// The crash drill in the suite: the newsletter CLI, a real process, is killed with SIGKILL a quarter of the
// way through 2,000 recipients; `resume` finishes the job. Everyone gets the newsletter; duplicates are
// at most the messages that were in flight at the kill.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../src/cli/index.js';
import { loadConfig } from '../src/config.js';
import { closeDatabase, migrateDatabase, openDatabase } from '../src/db/client.js';
import { newId } from '../src/lib/ids.js';
import { systemClock } from '../src/lib/clock.js';
import { projectRoot as repoRoot } from '../src/lib/paths.js';
import { createServices } from '../src/services.js';
import { startSmtpSink } from './helpers/smtp.js';
import { tempDir, TEST_SECRET } from './helper.js';

const RECIPIENTS = 2000;
const CONCURRENCY = 4;

t.test('SIGKILL the sending CLI midway, then resume: everyone gets one copy, duplicates ≤ in flight', { timeout: 180_000 }, async (t) => {
  const sink = await startSmtpSink(t);
  const dataDir = tempDir(t);
  const env = {
    DATA_DIR: dataDir,
    SECRET_KEY: TEST_SECRET,
    LOG_LEVEL: 'silent',
    SMTP_URL: sink.url,
    PUBLIC_BASE_URL: 'https://convene.test',
    MAIL_CONCURRENCY: String(CONCURRENCY),
  };
  const config = loadConfig(env);
  const database = openDatabase(config.databasePath);
  migrateDatabase(database.db);
  const cluster = createServices({ db: database.db, clock: systemClock, config }).clusters.create(
    { slug: 'north-west', name: 'North West' },
    { type: 'cli', label: 'test' },
  );
  const insert = database.sqlite.prepare(
    'INSERT INTO subscribers (id, cluster_id, email, status, topics, themes, created_at, updated_at, confirmed_at) VALUES (?, ?, ?, ' +
      "'confirmed', '[\"newsletter\"]', '[]', ?, ?, ?)",
  );
  const now = Date.now();
  database.sqlite.transaction(() => {
    for (let i = 0; i < RECIPIENTS; i++) insert.run(newId(), cluster.id, `reader${i}@example.org`, now, now, now);
  })();
  closeDatabase(database.sqlite);
  const body = join(dataDir, 'news.md');
  writeFileSync(body, '# News\n\nHello from the cluster.');

  // The first run, as a real process; killed once a quarter of the messages have arrived.
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'scripts/convene.ts'),
      'newsletter',
      'send',
      '--cluster',
      'north-west',
      '--subject',
      'News',
      '--body',
      body,
      '--yes',
      '--rate',
      '1000',
      '--json',
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal === 'SIGKILL' ? -9 : _code)));
  const deadline = Date.now() + 120_000;
  while (sink.messages.length < RECIPIENTS / 4 && Date.now() < deadline) {
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  child.kill('SIGKILL');
  t.equal(await exited, -9, `the CLI was killed mid-send (stderr: ${stderr.slice(0, 300)})`);
  const atKill = sink.messages.length;
  t.ok(atKill > 0 && atKill < RECIPIENTS, `killed midway: ${atKill} delivered so far`);

  // Count what the database believed at the kill: sent rows, and rows claimed but not recorded.
  const check = openDatabase(config.databasePath);
  const inFlight = (
    check.sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE kind = 'newsletter' AND status = 'sending'").get() as { n: number }
  ).n;
  const campaignId = (check.sqlite.prepare('SELECT id FROM campaigns').get() as { id: string }).id;
  closeDatabase(check.sqlite);
  t.ok(inFlight <= CONCURRENCY, `at most ${CONCURRENCY} messages were in flight (${inFlight})`);

  let stdout = '';
  const code = await runCli(['newsletter', 'resume', campaignId, '--json'], {
    env,
    io: { stdout: (s) => (stdout += s), stderr: () => {}, isTTY: false },
  });
  t.equal(code, 0, stdout);
  t.match(JSON.parse(stdout), { status: 'sent', sent: RECIPIENTS, pending: 0, failed: 0 });

  const copies = new Map<string, number>();
  for (const message of sink.messages) copies.set(message.envelope.to[0]!, (copies.get(message.envelope.to[0]!) ?? 0) + 1);
  t.equal(copies.size, RECIPIENTS, 'every subscriber received the newsletter');
  const duplicates = sink.messages.length - RECIPIENTS;
  t.ok(duplicates <= inFlight, `duplicates (${duplicates}) are at most the messages in flight at the kill (${inFlight})`);
  t.comment(`delivered before the kill: ${atKill}; in flight: ${inFlight}; duplicates: ${duplicates}`);
});
