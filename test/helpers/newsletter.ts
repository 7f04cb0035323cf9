// What the newsletter tests share: a cluster in a database file, the services and the command line on
// one environment, a real SMTP server on 127.0.0.1, and ways to add subscribers and Markdown files.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { runCli } from '../../src/cli/index.js';
import { loadConfig } from '../../src/config.js';
import { closeDatabase, migrateDatabase, openDatabase } from '../../src/db/client.js';
import type { Topic } from '../../src/db/schema.js';
import { systemClock } from '../../src/lib/clock.js';
import { projectRoot } from '../../src/lib/paths.js';
import { newId } from '../../src/lib/ids.js';
import { createServices } from '../../src/services.js';
import { tempDir, TEST_SECRET } from '../helper.js';
import { startSmtpSink } from './smtp.js';

export async function newsletterSetup(t: Test, options: { env?: Record<string, string>; delayMs?: number; clusterName?: string } = {}) {
  const sink = await startSmtpSink(t, options.delayMs === undefined ? {} : { delayMs: options.delayMs });
  const dataDir = tempDir(t);
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    SECRET_KEY: TEST_SECRET,
    LOG_LEVEL: 'silent',
    SMTP_URL: sink.url,
    PUBLIC_BASE_URL: 'https://convene.test',
    ...options.env,
  };
  const config = loadConfig(env);
  const database = openDatabase(config.databasePath);
  migrateDatabase(database.db);
  t.teardown(() => {
    if (database.sqlite.open) closeDatabase(database.sqlite);
  });
  const services = createServices({ db: database.db, clock: systemClock, config });
  const name = options.clusterName ?? 'North West HealthTec';
  const cluster = services.clusters.create({ slug: 'north-west', name }, { type: 'cli', label: 'test' });

  /** A subscriber who signed up through the API and (unless told otherwise) confirmed; returns their id. */
  const subscribe = (email: string, choice: { topics?: Topic[]; confirm?: boolean; name?: string } = {}) => {
    services.subscribers.signUp(
      cluster,
      { email, ...(choice.topics ? { topics: choice.topics } : {}), ...(choice.name ? { name: choice.name } : {}) },
      { source: 'api' },
    );
    const subscriber = services.subscribers.findByEmail(cluster, email);
    if (choice.confirm !== false) services.subscribers.confirm(subscriber, { source: 'email-link' });
    return subscriber.id;
  };
  /** `count` confirmed newsletter readers (reader0@example.org, ...), written at once. */
  const addReaders = (count: number) => {
    const insert = database.sqlite.prepare(
      'INSERT INTO subscribers (id, cluster_id, email, status, topics, themes, created_at, updated_at, confirmed_at) VALUES (?, ?, ?, ' +
        "'confirmed', '[\"newsletter\"]', '[]', ?, ?, ?)",
    );
    const now = Date.now();
    database.sqlite.transaction(() => {
      for (let i = 0; i < count; i++) insert.run(newId(), cluster.id, `reader${i}@example.org`, now, now, now);
    })();
  };
  /** A file in the data folder; returns its path. */
  const write = (fileName: string, text: string) => {
    const file = join(dataDir, fileName);
    writeFileSync(file, text);
    return file;
  };
  /** `convene <argv>` in this process, on the same environment. */
  const run = async (...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, { env, io: { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), isTTY: false } });
    return { code, stdout, stderr };
  };
  return { sink, dataDir, env, config, database, services, cluster, subscribe, addReaders, write, run };
}

/** `convene <argv>` as a process of its own (as an organiser runs it), on `env`; its output piped. */
export function spawnConvene(env: Record<string, string>, argv: string[]) {
  return spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'scripts/convene.ts'), ...argv], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The arguments of `newsletter send` to north-west's readers: this subject and body file, then `more`. */
export function sendArgv(subject: string, body: string, ...more: string[]): string[] {
  return ['newsletter', 'send', '--cluster', 'north-west', '--subject', subject, '--body', body, ...more];
}
