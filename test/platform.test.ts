// Health, readiness, metrics, request ids, security headers, and the OpenAPI document.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import t from 'tap';
import { Validator } from '@seriousme/openapi-schema-validator';
import { migrateDatabase, openDatabase } from '../src/db/client.js';
import { projectRoot } from '../src/lib/paths.js';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser } from './fixtures.js';

t.test('healthz answers; readyz is ready once migrated and listening', async (t) => {
  const { app } = await buildTestApp(t);
  const health = await app.inject('/healthz');
  t.equal(health.statusCode, 200);
  t.same(health.json(), { status: 'ok' });
  const ready = await app.inject('/readyz');
  t.equal(ready.statusCode, 200);
  t.same(ready.json(), { status: 'ready' });
});

t.test('readyz is 503 NOT_READY when the database lacks a migration', async (t) => {
  const { app, database } = await buildTestApp(t);
  // As if this release's newest migration had not been applied to the database.
  database.sqlite.exec('DELETE FROM __drizzle_migrations WHERE created_at = (SELECT max(created_at) FROM __drizzle_migrations)');
  const response = await app.inject('/readyz');
  t.equal(response.statusCode, 503);
  t.equal(response.json().code, 'NOT_READY');
  t.match(response.json().detail, /migrate/);
});

t.test('request ids: made up, or kept from a trusted proxy only', async (t) => {
  const direct = (await buildTestApp(t)).app;
  const generated = await direct.inject('/healthz');
  t.match(generated.headers['x-request-id'], /^[0-9a-f-]{36}$/);
  const forged = await direct.inject({ url: '/healthz', headers: { 'x-request-id': 'forged-id-12345' } });
  t.not(forged.headers['x-request-id'], 'forged-id-12345', 'a client cannot choose its request id');

  const proxied = (await buildTestApp(t, { env: { TRUST_PROXY: '1' } })).app;
  const passed = await proxied.inject({ url: '/healthz', headers: { 'x-request-id': 'proxy-id-12345' } });
  t.equal(passed.headers['x-request-id'], 'proxy-id-12345', 'a well-formed id from a trusted proxy is kept');
  const hostile = await proxied.inject({ url: '/healthz', headers: { 'x-request-id': 'bad id\twith spaces' } });
  t.not(hostile.headers['x-request-id'], 'bad id\twith spaces');
});

t.test('every response carries security headers', async (t) => {
  const { app } = await buildTestApp(t);
  const generated = await app.inject('/healthz');
  t.equal(generated.headers['x-content-type-options'], 'nosniff');
  t.match(generated.headers['content-security-policy'], /default-src 'none'/);
  t.match(generated.headers['strict-transport-security'], /max-age=/);
  t.equal(generated.headers['x-frame-options'], 'SAMEORIGIN');
  // Errors too: an unknown route, a malformed body, and a problem raised by a handler.
  for (const response of [
    await app.inject('/nowhere'),
    await app.inject({
      method: 'POST',
      url: '/v1/clusters/north-west/subscriptions',
      headers: { 'content-type': 'application/json' },
      payload: '{',
    }),
    await app.inject('/v1/clusters/nowhere'),
  ]) {
    t.ok(response.statusCode >= 400, `${response.statusCode} is an error`);
    t.equal(response.headers['x-content-type-options'], 'nosniff', `${response.statusCode} has nosniff`);
    t.match(response.headers['content-security-policy'], /default-src 'none'/, `${response.statusCode} has the CSP`);
  }
  const docs = await app.inject('/docs/');
  t.match(docs.headers['content-security-policy'], /script-src 'self'/, '/docs has its own CSP');
});

t.test('metrics shows request durations by route pattern and the outbox backlog', async (t) => {
  const { app, database } = await buildTestApp(t);
  createClusterWithOrganiser(database);
  await app.inject('/v1/clusters/north-west');
  await app.inject('/v1/clusters/nowhere');
  const metrics = await app.inject('/metrics');
  t.equal(metrics.statusCode, 200);
  t.match(metrics.headers['content-type'], /^text\/plain/);
  t.match(metrics.body, /convene_http_request_duration_seconds_count\{method="GET",route="\/v1\/clusters\/:cluster",status_code="200"\} 1/);
  t.match(metrics.body, /route="\/v1\/clusters\/:cluster",status_code="404"\} 1/);
  t.notMatch(metrics.body, /route="\/v1\/clusters\/north-west"/, 'raw URLs never become labels');
  t.match(metrics.body, /convene_outbox_messages\{status="queued"\} \d+/);
  t.match(metrics.body, /convene_process_resident_memory_bytes/);
});

t.test('a write that waits for another process holding the write lock is counted in /metrics', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'convene-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'convene.db');
  const database = openDatabase(path);
  migrateDatabase(database.db);
  const { app } = await buildTestApp(t, { database });
  const { auth } = createClusterWithOrganiser(database);
  const waits = async () => {
    const body = (await app.inject('/metrics')).body;
    return {
      count: Number(/^convene_db_lock_waits_total (\S+)$/m.exec(body)?.[1]),
      seconds: Number(/^convene_db_lock_wait_seconds_total (\S+)$/m.exec(body)?.[1]),
      longest: Number(/^convene_db_lock_wait_longest_seconds (\S+)$/m.exec(body)?.[1]),
    };
  };
  const edit = (name: string) => app.inject({ method: 'PATCH', url: '/v1/clusters/north-west', headers: auth, payload: { name } });
  t.equal((await edit('Quiet')).statusCode, 200);
  t.same(await waits(), { count: 0, seconds: 0, longest: 0 }, 'a write with the lock free waited for nothing');

  // Another process (as the newsletter CLI would) takes the write lock, and lets it go 1 s after this side
  // says "go" (just before it writes: a hold timed from the child's start could end before the write began,
  // on a busy machine). It opens the database as Convene does (the driver Convene loads on this Node).
  const holder = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `import { openDatabase } from ${JSON.stringify(join(projectRoot, 'src/db/client.ts'))};` +
        `const { sqlite } = openDatabase(process.env.HOLD_DB); sqlite.exec('BEGIN IMMEDIATE');` +
        `process.stdout.write('locked\\n');` +
        `process.stdin.once('data', () => setTimeout(() => { sqlite.exec('COMMIT'); sqlite.close(); process.exit(0); }, 1000));`,
    ],
    { cwd: projectRoot, env: { ...process.env, HOLD_DB: path }, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => holder.once('exit', resolve));
  const locked = await Promise.race([
    new Promise<boolean>((resolve) => createInterface({ input: holder.stdout! }).once('line', (line) => resolve(line === 'locked'))),
    exited.then(() => false),
  ]);
  t.ok(locked, 'the other process holds the lock');
  if (!locked) return;
  holder.stdin!.end('go\n');
  t.equal((await edit('Waited')).statusCode, 200, 'the write went through once the lock was free');
  await exited;
  const after = await waits();
  t.equal(after.count, 1, 'one transaction waited');
  t.ok(after.seconds >= 0.1 && after.seconds < 5, `it waited ${after.seconds} s`);
  t.equal(after.longest, after.seconds);
});

t.test('/metrics is for this machine, or for whoever has METRICS_TOKEN (issue 11, item 24)', async (t) => {
  const far = { remoteAddress: '203.0.113.7' };
  const open = await buildTestApp(t);
  t.equal((await open.app.inject({ url: '/metrics' })).statusCode, 200, 'from this machine, no token needed');
  const refused = await open.app.inject({ url: '/metrics', ...far });
  t.equal(refused.statusCode, 403);
  t.equal(refused.json().code, 'FORBIDDEN');
  t.notMatch(refused.body, /convene_outbox/, 'the backlog stays private');

  const token = 'scrape-me-please-0123456789';
  const { app } = await buildTestApp(t, { env: { METRICS_TOKEN: token } });
  for (const [headers, code] of [
    [{}, 'AUTH_REQUIRED'],
    [{ authorization: 'Bearer wrong-token-wrong-token' }, 'INVALID_CREDENTIALS'],
    [{ authorization: `Bearer ${token}x` }, 'INVALID_CREDENTIALS'],
  ] as const) {
    for (const from of [{}, far]) {
      const response = await app.inject({ url: '/metrics', headers, ...from });
      t.equal(response.statusCode, 401, `${JSON.stringify(headers)} ${JSON.stringify(from)}`);
      t.equal(response.json().code, code);
      t.match(response.headers['www-authenticate'], /^Bearer realm="metrics"/);
    }
  }
  const scraped = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` }, ...far });
  t.equal(scraped.statusCode, 200, scraped.body);
  t.match(scraped.body, /convene_outbox_messages/, 'the scrape has the backlog');
});

t.test('the OpenAPI document is valid 3.1, complete, and the committed copy is current', async (t) => {
  const { app } = await buildTestApp(t);
  const response = await app.inject('/openapi.json');
  t.equal(response.statusCode, 200);
  const document = response.json();
  t.equal(document.openapi, '3.1.0');

  const validator = new Validator();
  const result = await validator.validate(structuredClone(document));
  t.ok(result.valid, `valid OpenAPI 3.1: ${JSON.stringify(result.errors ?? '').slice(0, 500)}`);

  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, Record<string, unknown>>>)) {
    for (const [method, operation] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`;
      t.type(operation.operationId, 'string', `${where} has an operationId`);
      t.notOk(operationIds.has(operation.operationId as string), `${where} operationId is unique`);
      operationIds.add(operation.operationId as string);
      t.ok(Array.isArray(operation.tags) && (operation.tags as unknown[]).length > 0, `${where} has a tag`);
      t.type(operation.summary, 'string', `${where} has a summary`);
      t.ok(Array.isArray(operation.security), `${where} declares security (empty when public)`);
      const responses = operation.responses as Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
      const problems = Object.entries(responses).filter(([status]) => status.startsWith('4'));
      t.ok(problems.length > 0, `${where} documents 4xx responses`);
      for (const [status, response] of problems) {
        t.equal(
          response.content?.['application/problem+json']?.schema?.$ref,
          '#/components/schemas/Problem',
          `${where} ${status} is a Problem`,
        );
      }
    }
  }
  t.ok(document.components.schemas.Problem, 'one shared Problem schema');

  const committed = JSON.parse(readFileSync(new URL('../openapi/openapi.json', import.meta.url), 'utf8'));
  t.same(committed, document, 'openapi/openapi.json is current (run npm run openapi)');
});

t.test('interactive docs are served from this server', async (t) => {
  const { app } = await buildTestApp(t);
  const page = await app.inject('/docs/');
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], /text\/html/);
  t.match(page.body, /swagger-ui/i);
  t.notMatch(page.body, /https?:\/\/(?:cdn|unpkg|cdnjs)/, 'no assets from the internet');
  const bundle = await app.inject('/docs/static/swagger-ui-bundle.js');
  t.equal(bundle.statusCode, 200);
});
