// Drill 4: `convene db backup` while the server is busy writing. The backup finishes, and restored
// (copied over the database of a stopped server, as the README says) it passes PRAGMA
// integrity_check, holds every row acknowledged before the backup started, and serves again.
//   npx tsx bench/drills/backup-load.ts
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from '../../src/db/driver.js';
import { call, formatTally, keepAliveAgent, tally, type Outcome } from './http.js';
import { DrillResult, drillEnv, isMain, runDrill, sleep, startCli, startServer, tempDataDir, type Teardown } from './lib.js';
import { CLUSTER, seedCluster, seedSubscribers } from './seed.js';

export interface BackupOptions {
  /** Rows written before the drill so the database has some size (confirmed subscribers). */
  preloadRows: number;
  /** Concurrent writers creating members over HTTP. */
  writers: number;
  /** Writing before the backup starts. */
  warmupMs: number;
  /** The backup is a failure if it takes longer. */
  backupTimeoutMs: number;
}

export const FULL: BackupOptions = { preloadRows: 150_000, writers: 8, warmupMs: 3_000, backupTimeoutMs: 120_000 };

interface Write {
  email: string;
  outcome: Outcome;
}

export async function backupDrill(t: Teardown, o: BackupOptions): Promise<DrillResult> {
  const result = new DrillResult('backup under write load, restore');
  const env = drillEnv(tempDataDir(t), { MAIL_WORKER: 'false' });
  const seeded = seedCluster(env, 0);
  seedSubscribers(env, seeded.clusterId, o.preloadRows);
  const server = await startServer(t, env);

  // Writers: organisers adding members, each a committed transaction (member, audit, outbox rows).
  const agent = keepAliveAgent(o.writers);
  t.teardown(() => agent.destroy());
  const writes: Write[] = [];
  let stop = false;
  let counter = 0;
  const writer = async () => {
    while (!stop) {
      const email = `member${counter++}@example.org`;
      const outcome = await call(server.url, agent, {
        method: 'POST',
        path: `/v1/clusters/${CLUSTER}/members`,
        headers: { authorization: `Bearer ${seeded.apiKey}` },
        body: { email, name: email.split('@')[0], organisation: `Organisation of ${email}`, organisationType: 'company' },
      });
      writes.push({ email, outcome });
    }
  };
  const writers = Array.from({ length: o.writers }, writer);
  await sleep(o.warmupMs);

  // The backup, as an operator runs it, while the writers carry on.
  const backupFile = join(tempDataDir(t), 'backup.db');
  const acknowledged = () => new Set(writes.filter((w) => w.outcome.status === 201).map((w) => w.email));
  // The copy's snapshot is taken after its file is created, so what was acknowledged at the last
  // look that did not find the file yet must be in it (a look that finds the file may come after the
  // snapshot). Until the process gets there, the launch time stands in.
  let before = acknowledged();
  let sawBegin = false;
  const watch = setInterval(() => {
    if (sawBegin) return;
    const acked = acknowledged();
    if (existsSync(backupFile)) sawBegin = true;
    else before = acked;
  }, 2);
  const writesBefore = writes.length;
  const backup = await startCli(t, ['db', 'backup', backupFile, '--json'], env, o.backupTimeoutMs).done;
  clearInterval(watch);
  const writesDuring = writes.length - writesBefore;
  stop = true;
  await Promise.all(writers);
  const exit = await server.stop('SIGTERM', 15_000);
  const answers = tally(writes.map((w) => w.outcome));
  result.check(
    'the writers were busy throughout',
    writesDuring > 0 && (answers['201'] ?? 0) === writes.length,
    `${writesDuring} writes while the backup command ran; answers ${formatTally(answers)}`,
  );
  result.check(
    'the backup command finished and exited 0',
    backup.code === 0,
    `exit ${backup.code ?? backup.signal} after ${backup.ms} ms (limit ${o.backupTimeoutMs} ms) ${backup.stderr.trim().slice(0, 200)}`,
  );
  result.note({
    rowsPreloaded: o.preloadRows,
    databaseMB: Math.round(statSync(join(env.DATA_DIR!, 'convene.db')).size / 1e5) / 10,
    writesBeforeBackup: before.size,
    sawBackupBegin: String(sawBegin),
    writesWhileBackupRan: writesDuring,
    backupMs: backup.ms,
    backupExit: String(backup.code ?? backup.signal),
  });
  if (backup.code !== 0) return result;

  // Restore: a stopped server's database replaced by the backup, on a fresh data folder.
  const restoreEnv = drillEnv(tempDataDir(t), { MAIL_WORKER: 'false' });
  copyFileSync(backupFile, join(restoreEnv.DATA_DIR!, 'convene.db'));
  const restored = new Database(join(restoreEnv.DATA_DIR!, 'convene.db'));
  let integrity: string;
  let members: Set<string>;
  let foreignKeyProblems: number;
  try {
    integrity = restored.pragma('integrity_check', { simple: true }) as string;
    foreignKeyProblems = (restored.pragma('foreign_key_check') as unknown[]).length;
    members = new Set((restored.prepare('SELECT email FROM members').all() as { email: string }[]).map((r) => r.email));
  } finally {
    restored.close();
  }
  const missing = [...before].filter((email) => !members.has(email));
  result.check(
    'the restored database passes PRAGMA integrity_check',
    integrity === 'ok',
    `integrity_check: ${integrity}; foreign_key_check: ${foreignKeyProblems} problems`,
  );
  result.check(
    'it holds every row acknowledged before the backup started',
    missing.length === 0,
    `${before.size - missing.length} of ${before.size}; ${members.size} members in the backup`,
  );

  // And a server runs on it: ready, and the organiser's key still works.
  const again = await startServer(t, restoreEnv);
  const probe = keepAliveAgent(1);
  const ready = await call(again.url, probe, { path: '/readyz' });
  const listed = await call(again.url, probe, {
    path: `/v1/clusters/${CLUSTER}/members?limit=1`,
    headers: { authorization: `Bearer ${seeded.apiKey}` },
  });
  probe.destroy();
  const stopped = await again.stop('SIGTERM', 15_000);
  result.check(
    'a server starts on the restored database and serves',
    ready.status === 200 && listed.status === 200 && stopped?.code === 0,
    `readyz ${ready.status}, members ${listed.status}, exit ${stopped?.code}`,
  );
  result.check('the busy server stopped cleanly', exit?.code === 0, JSON.stringify(exit));
  result.note({ membersInBackup: members.size });
  return result;
}

if (isMain(import.meta.url)) await runDrill(5 * 60_000, (t) => backupDrill(t, FULL));
