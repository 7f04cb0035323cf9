// The convene command line, run in-process through runCli and once as a real process.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { runCli } from '../src/cli/index.js';
import { verifyBackup } from '../src/cli/db.js';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { closeDatabase, openDatabase } from '../src/db/client.js';
import { systemClock } from '../src/lib/clock.js';
import { createServices } from '../src/services.js';
import { tempDir, TEST_SECRET, type TestContext } from './helper.js';

function cli(t: TestContext) {
  const dataDir = tempDir(t);
  const env = { DATA_DIR: dataDir, SECRET_KEY: TEST_SECRET, LOG_LEVEL: 'silent' };
  return {
    env,
    dataDir,
    async run(...argv: string[]) {
      let stdout = '';
      let stderr = '';
      const code = await runCli(argv, { env, io: { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), isTTY: false } });
      return { code, stdout, stderr };
    },
  };
}

t.test('cluster create, then organiser create prints a working API key once', async (t) => {
  const { run, env } = cli(t);
  const created = await run('cluster', 'create', '--slug', 'north-west', '--name', 'North West HealthTec', '--json');
  t.equal(created.code, 0, created.stderr);
  t.match(JSON.parse(created.stdout), { slug: 'north-west', name: 'North West HealthTec', timezone: 'Europe/London' });

  const organiser = await run(
    'organiser',
    'create',
    '--cluster',
    'north-west',
    '--email',
    'Olivia@Example.org',
    '--name',
    'Olivia',
    '--json',
  );
  t.equal(organiser.code, 0, organiser.stderr);
  const { apiKey, email, keyPrefix } = JSON.parse(organiser.stdout);
  t.match(apiKey, /^cnv_org_[A-Za-z0-9_-]{43}$/);
  t.equal(email, 'olivia@example.org');
  t.ok(apiKey.startsWith(keyPrefix));

  const listed = await run('organiser', 'list', '--cluster', 'north-west');
  t.equal(listed.code, 0);
  t.match(listed.stdout, keyPrefix);
  t.notMatch(listed.stdout, apiKey, 'the key is never shown again');

  // The key works against the real app on the same database file.
  const config = loadConfig(env);
  const database = openDatabase(config.databasePath);
  const app = await buildApp({ database, services: createServices({ db: database.db, clock: systemClock, config }), logger: false });
  t.teardown(() => app.close());
  const patched = await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/north-west',
    headers: { authorization: `Bearer ${apiKey}` },
    payload: { name: 'Renamed' },
  });
  t.equal(patched.statusCode, 200);

  const revoked = await run('organiser', 'revoke', '--cluster', 'north-west', '--email', 'olivia@example.org');
  t.equal(revoked.code, 0);
  t.match(revoked.stdout, `Revoked ${keyPrefix}`);
  const refused = await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/north-west',
    headers: { authorization: `Bearer ${apiKey}` },
    payload: { name: 'Again' },
  });
  t.equal(refused.statusCode, 401);

  const audit = database.sqlite.prepare('SELECT action, actor_type FROM audit_events ORDER BY id').all();
  t.match(audit, [
    { action: 'cluster.created', actor_type: 'cli' },
    { action: 'organiser.created', actor_type: 'cli' },
    { action: 'cluster.updated', actor_type: 'organiser' },
    { action: 'api-key.revoked', actor_type: 'cli' },
  ]);
});

t.test('a time zone keeps the IANA name it was given: Asia/Kolkata is not renamed Asia/Calcutta, only its case is put right', async (t) => {
  const { run, env } = cli(t);
  const created = await run('cluster', 'create', '--slug', 'bengaluru', '--name', 'Bengaluru', '--timezone', 'Asia/Kolkata', '--json');
  t.equal(created.code, 0, created.stderr);
  t.equal(JSON.parse(created.stdout).timezone, 'Asia/Kolkata', 'the CLI answers with the name given');
  const organiser = await run('organiser', 'create', '--cluster', 'bengaluru', '--email', 'o@example.org', '--name', 'O', '--json');
  const auth = { authorization: `Bearer ${JSON.parse(organiser.stdout).apiKey}` };
  const config = loadConfig(env);
  const database = openDatabase(config.databasePath);
  const app = await buildApp({ database, services: createServices({ db: database.db, clock: systemClock, config }), logger: false });
  t.teardown(() => app.close());

  t.equal((await app.inject({ url: '/v1/clusters/bengaluru' })).json().timezone, 'Asia/Kolkata', 'the API shows it too');
  const huddle = await app.inject({
    method: 'POST',
    url: '/v1/clusters/bengaluru/huddles',
    headers: auth,
    payload: { title: 'Winter huddle', start: '2026-12-01T09:30', durationMinutes: 60, venue: { name: 'Hall' } },
  });
  t.equal(huddle.statusCode, 201, huddle.body);
  t.match(huddle.json().start, { utc: '2026-12-01T04:00:00Z', timezone: 'Asia/Kolkata' }, 'a huddle inherits it, at +05:30');

  const kyiv = await app.inject({ method: 'PATCH', url: '/v1/clusters/bengaluru', headers: auth, payload: { timezone: 'Europe/Kyiv' } });
  t.equal(kyiv.json().timezone, 'Europe/Kyiv', 'Europe/Kyiv is not renamed Europe/Kiev');
  const lower = await app.inject({ method: 'PATCH', url: '/v1/clusters/bengaluru', headers: auth, payload: { timezone: 'europe/london' } });
  t.equal(lower.json().timezone, 'Europe/London', "the case is put right where it differs from the zone's own name only in case");
  for (const zone of ['Mars/Olympus_Mons', '+05:30', 'Asia/Kolkata/']) {
    const refused = await app.inject({ method: 'PATCH', url: '/v1/clusters/bengaluru', headers: auth, payload: { timezone: zone } });
    t.equal(refused.statusCode, 400, `${zone} is refused`);
  }
});

t.test('new-key issues a second key; revoking one by prefix leaves the other', async (t) => {
  const { run } = cli(t);
  await run('cluster', 'create', '--slug', 'leeds', '--name', 'Leeds');
  const first = JSON.parse(
    (await run('organiser', 'create', '--cluster', 'leeds', '--email', 'a@example.org', '--name', 'A', '--json')).stdout,
  );
  const second = JSON.parse((await run('organiser', 'new-key', '--cluster', 'leeds', '--email', 'a@example.org', '--json')).stdout);
  t.not(first.apiKey, second.apiKey);
  const revoked = await run('organiser', 'revoke', '--cluster', 'leeds', '--email', 'a@example.org', '--key', first.keyPrefix, '--json');
  t.same(JSON.parse(revoked.stdout), { revoked: [first.keyPrefix] });
  const listed = JSON.parse((await run('organiser', 'list', '--cluster', 'leeds', '--json')).stdout);
  t.equal(listed[0].keys.filter((k: { revokedAt: string | null }) => !k.revokedAt).length, 1);
});

t.test('failures give one line and a non-zero exit code', async (t) => {
  const { run } = cli(t);
  const missingOption = await run('cluster', 'create', '--slug', 'x');
  t.equal(missingOption.code, 2, 'usage error');
  t.match(missingOption.stderr, /--name/);

  await run('cluster', 'create', '--slug', 'dup', '--name', 'Dup');
  const duplicate = await run('cluster', 'create', '--slug', 'dup', '--name', 'Dup');
  t.equal(duplicate.code, 1);
  t.equal(duplicate.stderr, 'error: A cluster "dup" exists already (CLUSTER_SLUG_TAKEN)\n');

  const badZone = await run('cluster', 'create', '--slug', 'zone', '--name', 'Zone', '--timezone', 'Europe/Atlantis');
  t.equal(badZone.code, 1);
  t.match(badZone.stderr, /IANA/);

  const noCluster = await run('organiser', 'create', '--cluster', 'nowhere', '--email', 'a@example.org', '--name', 'A');
  t.equal(noCluster.code, 1);
  t.match(noCluster.stderr, /CLUSTER_NOT_FOUND/);

  const badEmail = await run('organiser', 'create', '--cluster', 'dup', '--email', 'not-an-email', '--name', 'A');
  t.equal(badEmail.code, 1);
  t.match(badEmail.stderr, /VALIDATION_FAILED/);

  const unknown = await run('frobnicate');
  t.equal(unknown.code, 2);
});

t.test('a bad environment is exit 78 with one line naming the variable', async (t) => {
  let stderr = '';
  const code = await runCli(['db', 'migrate'], {
    env: { PORT: 'x' },
    io: { stdout: () => {}, stderr: (s) => (stderr += s), isTTY: false },
  });
  t.equal(code, 78);
  t.equal(stderr, 'error: Invalid configuration: PORT must be a whole number from 0 to 65535 (got "x")\n');
});

t.test('help works without any configuration', async (t) => {
  let stdout = '';
  const code = await runCli(['--help'], { env: { PORT: 'x' }, io: { stdout: (s) => (stdout += s), stderr: () => {}, isTTY: false } });
  t.equal(code, 0);
  t.match(stdout, /cluster/);
  t.match(stdout, /organiser/);
  t.match(stdout, /--json/);
});

t.test('db migrate applies migrations; db backup writes a verified copy', async (t) => {
  const { run, dataDir } = cli(t);
  const migrated = await run('db', 'migrate', '--json');
  t.equal(migrated.code, 0, migrated.stderr);
  t.ok(JSON.parse(migrated.stdout).applied >= 1);
  t.equal(JSON.parse((await run('db', 'migrate', '--json')).stdout).applied, 0, 'idempotent');

  await run('cluster', 'create', '--slug', 'backup-me', '--name', 'Backup');
  const file = join(dataDir, 'backups', 'convene.db');
  const backup = await run('db', 'backup', file, '--json');
  t.equal(backup.code, 0, backup.stderr);
  t.same(JSON.parse(backup.stdout), { file, integrity: 'ok' });
  t.ok(existsSync(file));
  t.equal(verifyBackup(file), 'ok');
  const copy = openDatabase(file);
  t.teardown(() => closeDatabase(copy.sqlite));
  t.equal((copy.sqlite.prepare('SELECT slug FROM clusters').get() as { slug: string }).slug, 'backup-me');

  const again = await run('db', 'backup', file);
  t.equal(again.code, 1, 'refuses to overwrite');
  t.match(again.stderr, /--force/);
  t.equal((await run('db', 'backup', file, '--force')).code, 0);
});

t.test('the real convene command runs as a process', async (t) => {
  const dataDir = tempDir(t);
  const run = promisify(execFile);
  const root = new URL('..', import.meta.url).pathname;
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', join(root, 'scripts/convene.ts'), 'cluster', 'create', '--slug', 'proc', '--name', 'Process', '--json'],
    {
      cwd: root,
      env: { ...process.env, DATA_DIR: dataDir, SECRET_KEY: TEST_SECRET },
    },
  );
  t.equal(JSON.parse(stdout).slug, 'proc');
  const failed = await run(process.execPath, ['--import', 'tsx', join(root, 'scripts/convene.ts'), 'cluster', 'show', 'nope'], {
    cwd: root,
    env: { ...process.env, DATA_DIR: dataDir, SECRET_KEY: TEST_SECRET },
  }).catch((error: { code: number; stderr: string }) => error);
  t.equal((failed as { code: number }).code, 1);
  t.equal((failed as { stderr: string }).stderr.trim().split('\n').length, 1, 'one line');
});
