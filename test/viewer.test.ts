// The viewer role (board members, funders' staff): `convene organiser create --role viewer` gives a key
// that reads everything in its cluster over the API and is refused every change, on every organiser
// route of the contract, with nothing written.
import t from 'tap';
import { runCli } from '../src/cli/index.js';
import { buildTestApp, tempDir, TEST_SECRET } from './helper.js';
import { fuzzTargets, operations } from './helpers/fuzz.js';
import { join } from 'node:path';
import { migrateDatabase, openDatabase, type Sqlite } from '../src/db/client.js';

/** Every row of every table, as text (the viewer's requests must leave it exactly as it was). */
function snapshot(sqlite: Sqlite): string {
  const tables = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
  return JSON.stringify(tables.map(({ name }) => [name, sqlite.prepare(`SELECT * FROM "${name}"`).all()]));
}

t.test('organiser create --role viewer: the key reads the cluster and every change is refused, changing nothing', async (t) => {
  const dataDir = tempDir(t);
  const env = { DATA_DIR: dataDir, SECRET_KEY: TEST_SECRET, LOG_LEVEL: 'silent', MAIL_WORKER: 'false', TIMED_JOBS: 'false' };
  const database = openDatabase(join(dataDir, 'convene.db'));
  migrateDatabase(database.db);
  const built = await buildTestApp(t, { database, env: { ...env, DATABASE_PATH: join(dataDir, 'convene.db') } });
  const { app } = built;
  const targets = await fuzzTargets(built)();

  const run = async (...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, { env, io: { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), isTTY: false } });
    return { code, stdout, stderr };
  };
  const made = await run(
    'organiser',
    'create',
    '--cluster',
    'north-west',
    '--email',
    'board@nw.example',
    '--name',
    'Bea Board',
    '--role',
    'viewer',
    '--json',
  );
  t.equal(made.code, 0, made.stderr);
  const viewer = JSON.parse(made.stdout) as { apiKey: string; role: string };
  t.equal(viewer.role, 'viewer');
  const listed = await run('organiser', 'list', '--cluster', 'north-west');
  t.match(listed.stdout, /Bea Board <board@nw\.example> \(viewer\)/);
  const wrongRole = await run(
    'organiser',
    'create',
    '--cluster',
    'north-west',
    '--email',
    'x@nw.example',
    '--name',
    'X',
    '--role',
    'admin',
  );
  t.not(wrongRole.code, 0);
  t.match(wrongRole.stderr, /one of organiser, viewer/);
  const auth = { authorization: `Bearer ${viewer.apiKey}` };

  // The key's first use records when it was used (at most once a minute); from here nothing may change.
  t.equal((await app.inject({ url: '/v1/clusters/north-west/members', headers: auth })).statusCode, 200);
  const before = snapshot(database.sqlite);

  // Reads: every organiser route that reads, on real things of the cluster.
  const organiserRoutes = operations().filter(({ operation }) =>
    ((operation as { security?: Record<string, unknown>[] }).security ?? []).some((scheme) => 'organiserKey' in scheme),
  );
  const url = (path: string) => path.replace(/\{(\w+)\}/g, (_, name: string) => targets.known(path, name));
  const reading = organiserRoutes.filter(({ method }) => method === 'get');
  t.ok(reading.length >= 10, `${reading.length} organiser routes read`);
  for (const { path } of reading) {
    const read = await app.inject({ url: url(path), headers: auth });
    t.equal(read.statusCode, 200, `GET ${path}: ${read.body.slice(0, 200)}`);
  }

  // Every organiser route that changes something: 403 FORBIDDEN, and not one row differs.
  const changing = organiserRoutes.filter(({ method }) => method !== 'get' && method !== 'head');
  t.ok(changing.length >= 15, `${changing.length} organiser routes change something`);
  for (const { path, method } of changing) {
    const refused = await app.inject({ method: method.toUpperCase() as 'POST', url: url(path), headers: auth, payload: {} });
    t.equal(refused.statusCode, 403, `${method.toUpperCase()} ${path}`);
    t.equal(refused.json().code, 'FORBIDDEN');
    t.match(refused.json().detail, /viewer/);
  }
  t.equal(snapshot(database.sqlite), before, 'nothing in the database changed');
});
