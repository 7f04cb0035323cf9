// Every error a client can cause comes back as application/problem+json with the right status and code.
import { once } from 'node:events';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser } from './fixtures.js';
import { manualClock } from '../src/lib/clock.js';
import { problem } from '../src/errors.js';

function expectProblem(
  t: Test,
  response: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
  code: string,
) {
  t.equal(response.statusCode, status, `status ${status}`);
  t.match(String(response.headers['content-type']), /^application\/problem\+json/, 'problem+json');
  const body = response.json() as Record<string, unknown>;
  t.equal(body.code, code, `code ${code}`);
  t.equal(body.status, status);
  t.type(body.title, 'string');
  t.type(body.detail, 'string');
  t.equal(body.type, `https://convene.test/problems/${code}`);
  t.type(body.requestId, 'string');
  return body;
}

t.test('malformed JSON is 400 MALFORMED_JSON and changes nothing', async (t) => {
  const { app, database } = await buildTestApp(t);
  const { auth } = createClusterWithOrganiser(database);
  const response = await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/north-west',
    headers: { ...auth, 'content-type': 'application/json' },
    payload: '{"name": "Broken',
  });
  expectProblem(t, response, 400, 'MALFORMED_JSON');
  const profile = (await app.inject('/v1/clusters/north-west')).json();
  t.equal(profile.name, 'Cluster north-west');
});

t.test('a body that is not valid UTF-8 is 400 INVALID_UTF8 and changes nothing; valid UTF-8 is kept exactly', async (t) => {
  const { app, database } = await buildTestApp(t);
  const { auth } = createClusterWithOrganiser(database);
  const headers = { ...auth, 'content-type': 'application/json' };
  const badBytes = [
    Buffer.from([0xc3, 0x28]), // a lead byte without its continuation
    Buffer.from([0xff, 0xfe]), // bytes UTF-8 never uses
    Buffer.from([0xed, 0xa0, 0x80]), // a UTF-16 surrogate encoded as UTF-8
    Buffer.from([0xe2, 0x82]), // a character cut short at the end of a string
  ];
  for (const bad of badBytes) {
    const payload = Buffer.concat([Buffer.from('{"name":"Bad '), bad, Buffer.from(' name"}')]);
    const response = await app.inject({ method: 'PATCH', url: '/v1/clusters/north-west', headers, payload });
    const body = expectProblem(t, response, 400, 'INVALID_UTF8');
    t.match(body.detail, /UTF-8/);
  }
  t.equal((await app.inject('/v1/clusters/north-west')).json().name, 'Cluster north-west', 'nothing changed');

  const name = 'Gesundheit Zürich – Ålesund 健康 🚀 \ufffd';
  const ok = await app.inject({ method: 'PATCH', url: '/v1/clusters/north-west', headers, payload: Buffer.from(JSON.stringify({ name })) });
  t.equal(ok.statusCode, 200, ok.body);
  t.equal((await app.inject('/v1/clusters/north-west')).json().name, name, 'multi-byte text, and a U+FFFD the client meant, kept');
});

t.test('a page form that is not valid UTF-8 is 400 INVALID_UTF8, raw or percent-encoded', async (t) => {
  const { app, database } = await buildTestApp(t);
  createClusterWithOrganiser(database);
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  for (const payload of [
    Buffer.from('email=ad%C3%28a@example.org'),
    Buffer.concat([Buffer.from('email=ad'), Buffer.from([0xff]), Buffer.from('a@example.org')]),
  ]) {
    const response = await app.inject({ method: 'POST', url: '/sign-in/link', headers, payload });
    expectProblem(t, response, 400, 'INVALID_UTF8');
  }
  const fine = await app.inject({ method: 'POST', url: '/sign-in/link', headers, payload: 'email=j%C3%BCrgen%40example.org' });
  t.equal(fine.statusCode, 200, 'a well-formed form with percent-encoded UTF-8 is taken');
});

t.test('an unknown field is 400 VALIDATION_FAILED naming the field', async (t) => {
  const { app, database } = await buildTestApp(t);
  const { auth } = createClusterWithOrganiser(database);
  const response = await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/north-west',
    headers: auth,
    payload: { name: 'New', colour: 'blue' },
  });
  const body = expectProblem(t, response, 400, 'VALIDATION_FAILED');
  t.match(body.errors, [{ field: 'body/colour', message: 'is not a known field' }]);
  t.equal((await app.inject('/v1/clusters/north-west')).json().name, 'Cluster north-west', 'nothing changed');
});

t.test('a value of the wrong shape is 400 VALIDATION_FAILED', async (t) => {
  const { app, database } = await buildTestApp(t);
  const { auth } = createClusterWithOrganiser(database);
  for (const payload of [
    { name: '' },
    { name: 'Line\r\nBreak' },
    { timezone: 'Mars/Olympus' },
    { contactEmail: 'not-an-address' },
    {},
    { themes: ['data', 'data'] },
  ]) {
    const response = await app.inject({ method: 'PATCH', url: '/v1/clusters/north-west', headers: auth, payload });
    expectProblem(t, response, 400, 'VALIDATION_FAILED');
  }
});

t.test('a wrong content type is 415 UNSUPPORTED_MEDIA_TYPE', async (t) => {
  const { app, database } = await buildTestApp(t);
  const { auth } = createClusterWithOrganiser(database);
  const response = await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/north-west',
    headers: { ...auth, 'content-type': 'application/xml' },
    payload: '<name>x</name>',
  });
  expectProblem(t, response, 415, 'UNSUPPORTED_MEDIA_TYPE');
});

t.test('an oversized body is 413 BODY_TOO_LARGE', async (t) => {
  const { app, database } = await buildTestApp(t, { env: { BODY_LIMIT_BYTES: '2048' } });
  const { auth } = createClusterWithOrganiser(database);
  const response = await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/north-west',
    headers: { ...auth, 'content-type': 'application/json' },
    payload: JSON.stringify({ name: 'x'.repeat(5000) }),
  });
  expectProblem(t, response, 413, 'BODY_TOO_LARGE');
});

t.test('an unknown route is 404 ROUTE_NOT_FOUND', async (t) => {
  const { app } = await buildTestApp(t);
  expectProblem(t, await app.inject('/v1/nothing-here'), 404, 'ROUTE_NOT_FOUND');
  expectProblem(t, await app.inject({ method: 'DELETE', url: '/healthz' }), 404, 'ROUTE_NOT_FOUND');
});

t.test('a missing key is 401 AUTH_REQUIRED with a Bearer challenge', async (t) => {
  const { app, database } = await buildTestApp(t);
  createClusterWithOrganiser(database);
  const response = await app.inject({ method: 'PATCH', url: '/v1/clusters/north-west', payload: { name: 'x' } });
  expectProblem(t, response, 401, 'AUTH_REQUIRED');
  t.equal(response.headers['www-authenticate'], 'Bearer realm="convene"');
});

t.test('a bad, malformed or revoked key is 401 INVALID_CREDENTIALS', async (t) => {
  const { app, database, services } = await buildTestApp(t);
  const { apiKey } = createClusterWithOrganiser(database);
  const bad = [`cnv_org_${'A'.repeat(43)}`, 'nonsense', `${apiKey}x`, apiKey.slice(0, -1)];
  for (const key of bad) {
    const response = await app.inject({
      method: 'PATCH',
      url: '/v1/clusters/north-west',
      headers: { authorization: `Bearer ${key}` },
      payload: { name: 'x' },
    });
    expectProblem(t, response, 401, 'INVALID_CREDENTIALS');
    t.match(response.headers['www-authenticate'], /error="invalid_token"/);
  }
  const basic = await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/north-west',
    headers: { authorization: 'Basic dXNlcjpwYXNz' },
    payload: { name: 'x' },
  });
  expectProblem(t, basic, 401, 'AUTH_REQUIRED');
  t.equal(basic.headers['www-authenticate'], 'Bearer realm="convene"', 'another scheme gets a plain Bearer challenge');

  services.organisers.revoke('north-west', 'organiser@north-west.example', { type: 'cli' });
  const revoked = await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/north-west',
    headers: { authorization: `Bearer ${apiKey}` },
    payload: { name: 'x' },
  });
  expectProblem(t, revoked, 401, 'INVALID_CREDENTIALS');
});

t.test('an expired key is 401 INVALID_CREDENTIALS', async (t) => {
  const clock = manualClock('2026-11-23T09:00:00Z');
  const { app, database } = await buildTestApp(t, { clock });
  const { auth } = createClusterWithOrganiser(database, 'north-west', clock);
  t.equal((await app.inject({ url: '/v1/clusters/north-west/audit', headers: auth })).statusCode, 200);
  clock.advance(366 * 86_400_000);
  expectProblem(t, await app.inject({ url: '/v1/clusters/north-west/audit', headers: auth }), 401, 'INVALID_CREDENTIALS');
});

t.test('a key for another cluster is refused the same way whether or not the target exists', async (t) => {
  const { app, database } = await buildTestApp(t);
  createClusterWithOrganiser(database, 'north-west');
  const other = createClusterWithOrganiser(database, 'west-midlands');
  const existing = await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/north-west',
    headers: other.auth,
    payload: { name: 'Taken over' },
  });
  const missing = await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/no-such-cluster',
    headers: other.auth,
    payload: { name: 'Taken over' },
  });
  const a = expectProblem(t, existing, 403, 'FORBIDDEN');
  const b = expectProblem(t, missing, 403, 'FORBIDDEN');
  t.equal(a.detail, b.detail, 'same answer for an existing and a missing cluster');
  t.equal((await app.inject('/v1/clusters/north-west')).json().name, 'Cluster north-west', 'nothing changed');
  const audit = await app.inject({ url: '/v1/clusters/north-west/audit', headers: other.auth });
  expectProblem(t, audit, 403, 'FORBIDDEN');
});

t.test('repeated failed authentication is rate limited per token; a valid key from the same address still works', async (t) => {
  const { app, database } = await buildTestApp(t, { env: { AUTH_FAILURE_LIMIT_PER_MINUTE: '3' } });
  const { auth } = createClusterWithOrganiser(database);
  const stale = { authorization: `Bearer cnv_org_${'B'.repeat(43)}` };
  // A stale header on a public read is not a failed sign-in: the read is answered as public and not counted.
  for (let i = 0; i < 5; i++) t.equal((await app.inject({ url: '/v1/clusters/north-west/huddles', headers: stale })).statusCode, 200);
  for (let i = 0; i < 3; i++) {
    t.equal((await app.inject({ url: '/v1/clusters/north-west/audit', headers: stale })).statusCode, 401, 'the first failures are 401');
  }
  const blocked = await app.inject({ url: '/v1/clusters/north-west/audit', headers: stale });
  expectProblem(t, blocked, 429, 'RATE_LIMITED');
  t.ok(Number(blocked.headers['retry-after']) > 0, 'Retry-After given');
  t.equal(
    (await app.inject({ url: '/v1/clusters/north-west/audit', headers: auth })).statusCode,
    200,
    'a colleague’s valid key still works',
  );
  const other = { authorization: `Bearer cnv_org_${'C'.repeat(43)}` };
  t.equal((await app.inject({ url: '/v1/clusters/north-west/audit', headers: other })).statusCode, 401, 'another token is counted apart');

  // Guessing many different tokens from one address hits the address's (larger) limit; valid keys still pass.
  let status = 0;
  for (let i = 0; i < 40 && status !== 429; i++) {
    const guess = { authorization: `Bearer cnv_org_${String(i).padStart(43, 'D')}` };
    status = (await app.inject({ url: '/v1/clusters/north-west/audit', headers: guess })).statusCode;
  }
  t.equal(status, 429, 'many different unknown tokens from one address are refused');
  t.equal((await app.inject({ url: '/v1/clusters/north-west/audit', headers: auth })).statusCode, 200, 'the valid key still works');
});

t.test('a whole office signs in from one address: sign-in has its own, larger limit than the newsletter form', async (t) => {
  const { app, database, services } = await buildTestApp(t);
  createClusterWithOrganiser(database);
  const cluster = services.clusters.get('north-west');
  const codes = Array.from({ length: 15 }, (_, i) => {
    const member = services.members.create(
      cluster,
      { email: `person${i}@office.example`, name: `Person ${i}`, organisation: 'Office', organisationType: 'company' },
      { type: 'cli', label: 'test' },
    );
    return database.db.transaction((tx) => services.signIn.issueCode(tx, member.id));
  });
  for (const [i, code] of codes.entries()) {
    const link = await app.inject({ method: 'POST', url: '/v1/auth/email-link', payload: { email: `person${i}@office.example` } });
    t.equal(link.statusCode, 202, `sign-in link ${i + 1}`);
    const token = await app.inject({ method: 'POST', url: '/v1/auth/tokens', payload: { code } });
    t.equal(token.statusCode, 201, `token ${i + 1}`);
  }
});

t.test('writes are rate limited per API key with problem+json and Retry-After; reads and other keys are not', async (t) => {
  const { app, database } = await buildTestApp(t, { env: { WRITE_RATE_LIMIT_PER_MINUTE: '3' } });
  const { auth } = createClusterWithOrganiser(database);
  const second = createClusterWithOrganiser(database, 'second');
  const rename = (headers: Record<string, string>, cluster: string, i: number) =>
    app.inject({ method: 'PATCH', url: `/v1/clusters/${cluster}`, headers, payload: { name: `Name ${i}` } });
  for (let i = 0; i < 3; i++) t.equal((await rename(auth, 'north-west', i)).statusCode, 200);
  const limited = await rename(auth, 'north-west', 3);
  expectProblem(t, limited, 429, 'RATE_LIMITED');
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After given');
  t.equal((await app.inject('/v1/clusters/north-west')).json().name, 'Name 2', 'the refused write changed nothing');
  t.equal((await app.inject({ url: '/v1/clusters/north-west/audit', headers: auth })).statusCode, 200, 'reads go on');
  t.equal((await rename(second.auth, 'second', 0)).statusCode, 200, 'another key has its own budget');
});

t.test('public routes are rate limited per address with problem+json', async (t) => {
  const { app, database } = await buildTestApp(t, { env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '2' } });
  createClusterWithOrganiser(database);
  t.equal((await app.inject('/v1/clusters/north-west')).statusCode, 200);
  t.equal((await app.inject('/v1/clusters/north-west')).statusCode, 200);
  const limited = await app.inject('/v1/clusters/north-west');
  expectProblem(t, limited, 429, 'RATE_LIMITED');
  t.ok(limited.headers['retry-after']);
  t.equal((await app.inject('/healthz')).statusCode, 200, 'health is never rate limited');
});

t.test('an internal failure is a 500 that shows no internals', async (t) => {
  const { app, database } = await buildTestApp(t);
  const { auth } = createClusterWithOrganiser(database, 'second');
  // Break the database underneath the app: the route fails inside better-sqlite3.
  database.sqlite.exec('DROP TABLE audit_events');
  const response = await app.inject({ method: 'PATCH', url: '/v1/clusters/second', headers: auth, payload: { name: 'New name' } });
  const body = expectProblem(t, response, 500, 'INTERNAL_ERROR');
  t.notMatch(JSON.stringify(body), /audit_events|sqlite|stack|at /i, 'no internals in the body');
});

t.test('bodies are taken as sent: no type coercion, so bad types change nothing', async (t) => {
  const { app, database } = await buildTestApp(t);
  const { auth } = createClusterWithOrganiser(database);
  for (const payload of [
    { bookingPolicy: { cancellationCutoffHours: null } },
    { bookingPolicy: { approvalRequired: 'false' } },
    { bookingPolicy: { cancellationCutoffHours: '12' } },
    { themes: 'data' },
    { name: 42 },
    { name: '   ' },
  ]) {
    const response = await app.inject({ method: 'PATCH', url: '/v1/clusters/north-west', headers: auth, payload });
    expectProblem(t, response, 400, 'VALIDATION_FAILED');
  }
  const profile = (await app.inject('/v1/clusters/north-west')).json();
  t.equal(profile.bookingPolicy.cancellationCutoffHours, 24, 'unchanged');
  t.equal(profile.name, 'Cluster north-west');
  const query = await app.inject({ url: '/v1/clusters/north-west/audit?limit=2', headers: auth });
  t.equal(query.statusCode, 200, 'query strings are still coerced');
});

t.test('time zones are stored under their canonical name', async (t) => {
  const { app, database } = await buildTestApp(t);
  const { auth } = createClusterWithOrganiser(database);
  const response = await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/north-west',
    headers: auth,
    payload: { timezone: 'europe/dublin' },
  });
  t.equal(response.json().timezone, 'Europe/Dublin');
});

t.test('text/plain is 415, and framework-level refusals are problem+json too', async (t) => {
  const { app, database } = await buildTestApp(t);
  const { auth } = createClusterWithOrganiser(database);
  const text = await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/north-west',
    headers: { ...auth, 'content-type': 'text/plain' },
    payload: 'name=x',
  });
  expectProblem(t, text, 415, 'UNSUPPORTED_MEDIA_TYPE');
  expectProblem(t, await app.inject('/v1/clusters/%ff'), 400, 'VALIDATION_FAILED');
  const long = await app.inject(`/v1/clusters/${'a'.repeat(300)}`);
  t.ok(long.statusCode >= 400 && long.statusCode < 500);
  t.match(String(long.headers['content-type']), /^application\/problem\+json/);
  t.equal((await app.inject('/problems/__proto__')).statusCode, 404);
  t.equal((await app.inject('/problems/constructor')).statusCode, 404);
  t.equal((await app.inject('/problems/NOT_A_CODE')).statusCode, 404, 'only catalogue codes');
  t.equal((await app.inject('/problems/RATE_LIMITED')).statusCode, 200);
});

t.test('requests the HTTP parser rejects get a problem+json answer', async (t) => {
  const { app } = await buildTestApp(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const raw = async (request: string) => {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    let response = '';
    socket.on('data', (chunk) => (response += chunk.toString()));
    socket.end(request);
    await once(socket, 'close');
    return response;
  };
  const huge = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  t.match(huge, /^HTTP\/1\.1 431/);
  t.match(huge, /application\/problem\+json/);
  const broken = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n');
  t.match(broken, /^HTTP\/1\.1 400/);
  t.match(broken, /"code":"VALIDATION_FAILED"/);
  // Like every other problem, these carry a request id, in the body and the X-Request-Id header.
  for (const answer of [huge, broken]) {
    const requestId = (JSON.parse(answer.split('\r\n\r\n')[1]!) as { requestId?: string }).requestId;
    t.match(requestId, /^[0-9a-f-]{36}$/);
    t.match(answer, new RegExp(`X-Request-Id: ${requestId}\r\n`, 'i'));
  }
});

t.test('a client trickling its headers or its body is cut with 408 within REQUEST_TIMEOUT_MS (issue 11, item 11)', async (t) => {
  const { app } = await buildTestApp(t, { env: { REQUEST_TIMEOUT_MS: '1000' } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  // Sends `first`, then one piece every 200 ms, up to 40 pieces (8 s, eight times the limit); the
  // server must answer and close long before the client runs out of pieces.
  const trickle = async (first: string, piece: (index: number) => string) => {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    let response = '';
    let sent = 0;
    socket.on('data', (chunk) => (response += chunk.toString()));
    socket.on('error', () => {});
    socket.write(first);
    const timer = setInterval(() => {
      if (socket.destroyed || sent === 40) return clearInterval(timer);
      socket.write(piece(sent++));
    }, 200);
    await once(socket, 'close');
    clearInterval(timer);
    return { response, sent };
  };
  const headers = await trickle('GET /healthz HTTP/1.1\r\nHost: x\r\n', (i) => `X-Slow-${i}: 1\r\n`);
  t.match(headers.response, /^HTTP\/1\.1 408 Request Timeout/, 'headers too slow: 408');
  t.match(headers.response, /"code":"REQUEST_TIMEOUT"/);
  t.ok(headers.sent < 20, `cut after ${headers.sent} of 40 header lines (1 s limit, a line every 0.2 s)`);

  const body = await trickle(
    'POST /v1/clusters/north-west/subscribers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n',
    () => ' ',
  );
  t.match(body.response, /^HTTP\/1\.1 408 Request Timeout/, 'body too slow: 408, not 400');
  t.match(body.response, /"code":"REQUEST_TIMEOUT"/);
  t.ok(body.sent < 20, `cut after ${body.sent} of 40 body bytes`);
});

t.test('a client error carries no stack trace; a server error keeps its own', async (t) => {
  const notFound = problem('CLUSTER_NOT_FOUND', 'There is no cluster "x"');
  t.equal(notFound.statusCode, 404);
  t.notMatch(notFound.stack ?? '', /\n\s+at /, 'no frames captured for a 4xx');
  const internal = problem('INTERNAL_ERROR');
  t.equal(internal.statusCode, 500);
  t.match(internal.stack ?? '', /\n\s+at /, 'a 5xx has its frames');
});
