// Baseline: a cached body served with an ETag, answering 304 when the client has it.
import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import { announce } from '../servers/ready.js';

const body =
  'BEGIN:VCALENDAR\r\n' +
  'X-LINE:'
    .padEnd(70, 'x')
    .concat('\r\n')
    .repeat(Number(process.env.BENCH_BODY_LINES ?? 6000)) +
  'END:VCALENDAR\r\n';
const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
const app = Fastify({ logger: false });
app.get('/calendar.ics', async (request, reply) => {
  reply.header('etag', etag).header('cache-control', 'public, max-age=300');
  if (request.headers['if-none-match'] === etag) return reply.code(304).send();
  return reply.type('text/calendar; charset=utf-8').send(body);
});
await announce(app, { etag });
