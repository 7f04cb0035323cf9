// Logs are structured JSON with request ids, and never carry tokens, keys or email addresses.
import { pino } from 'pino';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { buildApp } from '../src/app.js';
import { systemClock } from '../src/lib/clock.js';
import { loggerOptions, redactUrl } from '../src/lib/logging.js';
import { createServices } from '../src/services.js';
import { testConfig, testDatabase } from './helper.js';
import { createClusterWithOrganiser } from './fixtures.js';

t.test('redactUrl hides tokens, codes and addresses in paths and queries', async (t) => {
  t.equal(redactUrl('/unsubscribe?token=abc.def&x=1'), '/unsubscribe?token=[redacted]&x=1');
  t.equal(redactUrl(`/v1/feeds/cnv_feed_${'a'.repeat(43)}/calendar.ics`), '/v1/feeds/[redacted]/calendar.ics');
  t.equal(redactUrl('/x?email=someone%40example.org'), '/x?email=[redacted]');
  t.equal(redactUrl('/v1/subscribers/person@example.org'), '/v1/subscribers/[redacted]');
  t.equal(redactUrl('/v1/clusters/north-west'), '/v1/clusters/north-west');
});

t.test('request logs are JSON with request ids and no secrets', async (t) => {
  const stream = new PassThrough();
  let logs = '';
  stream.on('data', (chunk) => (logs += chunk.toString()));
  const database = testDatabase(t);
  const { apiKey } = createClusterWithOrganiser(database);
  const config = testConfig(t, { LOG_LEVEL: 'info', TRUST_PROXY: '127.0.0.1' });
  const app = await buildApp({ database, services: createServices({ db: database.db, clock: systemClock, config }), logStream: stream });
  t.teardown(() => app.close());
  await app.inject({
    url: '/v1/clusters/north-west/audit?token=secret-token-value',
    headers: { authorization: `Bearer ${apiKey}`, 'x-request-id': 'req-log-test-1' },
  });
  await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/north-west',
    headers: { authorization: `Bearer ${apiKey}` },
    payload: { contactEmail: 'private@example.org' },
  });
  const lines = logs
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  t.ok(
    lines.some((line) => line.reqId === 'req-log-test-1'),
    'request id on log lines',
  );
  t.notMatch(logs, apiKey, 'no API key');
  t.notMatch(logs, 'secret-token-value', 'no token from the query');
  t.notMatch(logs, 'private@example.org', 'no email address');
});

t.test("a failed query's parameters (addresses, tokens) stay out of the log", async (t) => {
  const lines: string[] = [];
  const logger = pino(loggerOptions('info'), { write: (line: string) => lines.push(line) });
  const error = Object.assign(new Error('Failed query: insert into "suppressions" values (?, ?)'), {
    query: 'insert into "suppressions" values (?, ?)',
    params: ['ada@example.org', 'cnv_mem_secret'],
  });
  logger.error({ err: error }, 'could not record');
  t.equal(lines.length, 1);
  t.notMatch(lines[0]!, /ada@example\.org|cnv_mem_secret/);
  t.match(JSON.parse(lines[0]!).err, { message: /Failed query/, query: /suppressions/ });
});
