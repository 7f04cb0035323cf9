// Baseline: the sign-up's own work written by hand (issue 16, item 1), to split the sign-up's ratio into
// "our code" against "the work itself". Fastify with the same body schema; the 202 first, then in one
// IMMEDIATE transaction on prepared better-sqlite3 statements, over Convene's own tables and indexes
// (its migrations): the suppression check by the address's hash, the existing subscriber, the new
// subscriber row, a consent event, and a confirmation email of the same size in outbox and outbox_bodies,
// its link signed with an HMAC as Convene signs it.
// With BENCH_HOOKS=1 it adds what every Convene request pays besides: a request id echoed in a header,
// security headers (helmet's, computed once), a latency histogram (prom-client) and a rate limit per address.
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { migrateDatabase, openDatabase } from '../../src/db/client.js';
import { announce } from '../servers/ready.js';
import { addHooks, hookedOptions, hookedRouteConfig } from './hooks.js';

const secret = 'bench-secret-that-is-at-least-32-characters';
const { sqlite, db } = openDatabase(join(mkdtempSync(join(tmpdir(), 'convene-bench-')), 'sign-up.db'));
migrateDatabase(db);
const clusterId = randomUUID();
sqlite
  .prepare(
    `INSERT INTO clusters (id, slug, name, timezone, themes, booking_policy, created_at, updated_at)
     VALUES (?, 'bench', 'Bench Cluster', 'Europe/London', '[]', '{}', ?, ?)`,
  )
  .run(clusterId, Date.now(), Date.now());

// The cluster by its slug (the handler) and its own sender (as the email is queued), as Convene reads them.
const clusterBySlug = sqlite.prepare('SELECT * FROM clusters WHERE slug = ?');
const senderOf = sqlite.prepare('SELECT name, sender_name, sender_address, reply_to FROM clusters WHERE id = ?');
const suppressed = sqlite.prepare('SELECT 1 FROM suppressions WHERE email_hash = ? AND (cluster_id = ? OR cluster_id IS NULL)');
const existing = sqlite.prepare('SELECT id, status, last_notice_at FROM subscribers WHERE cluster_id = ? AND email = ?');
const insertSubscriber = sqlite.prepare(
  `INSERT INTO subscribers (id, cluster_id, email, name, status, topics, themes, created_at, updated_at, last_notice_at)
   VALUES (?, ?, ?, ?, 'pending', ?, '[]', ?, ?, ?)`,
);
const insertEvent = sqlite.prepare(
  `INSERT INTO consent_events (id, cluster_id, subscriber_id, email_hash, kind, source, wording_version, topics, ip, user_agent, at)
   VALUES (?, ?, ?, ?, 'requested', 'api', 'v1', ?, ?, ?, ?)`,
);
const insertOutbox = sqlite.prepare(
  `INSERT INTO outbox (id, message_id, cluster_id, kind, to_address, from_address, subject, status, attempts, next_attempt_at, created_at)
   VALUES (?, ?, ?, 'subscription.confirm', ?, 'Convene <convene@convene.bench>', 'Please confirm: Bench Cluster emails', 'queued', 0, ?, ?)`,
);
const insertBody = sqlite.prepare("INSERT INTO outbox_bodies (outbox_id, text, html, headers) VALUES (?, ?, ?, '{}')");

// The confirmation email's size in Convene (text 501, HTML 1,699 characters with the link).
const textBefore = 'Someone (we hope you) asked to receive the newsletter from Bench Cluster at this address. '.repeat(3);
const htmlBefore = `<!doctype html><html><body style="margin:0;padding:0">${'<p style="margin:0 0 16px">Please confirm.</p>'.repeat(22)}`;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const write = sqlite.transaction((email: string, name: string | null, topics: string, ip: string, userAgent: string | null) => {
  const hash = createHash('sha256').update(email).digest('hex');
  if (suppressed.get(hash, clusterId)) return;
  if (existing.get(clusterId, email)) return;
  const now = Date.now();
  const id = randomUUID();
  insertSubscriber.run(id, clusterId, email, name, topics, now, now, now);
  insertEvent.run(randomUUID(), clusterId, id, hash, topics, ip, userAgent, now);
  const token = `${id}.${createHmac('sha256', secret).update(`confirm:${id}`).digest('base64url')}`;
  const url = `https://convene.bench/subscriptions/confirm?token=${encodeURIComponent(token)}`;
  const outboxId = randomUUID();
  senderOf.get(clusterId);
  insertOutbox.run(outboxId, `<${outboxId}@convene.bench>`, clusterId, email, now, now);
  insertBody.run(outboxId, `${textBefore}\n\n${url}\n`, `${htmlBefore}<p><a href="${url}">Confirm</a></p><p>${url}</p></body></html>`);
});

const app = Fastify({ logger: false, ...hookedOptions });
await addHooks(app);

interface Body {
  email: string;
  name?: string;
  topics?: string[];
  themes?: string[];
  website?: string;
}
app.post<{ Body: Body }>(
  '/signups',
  {
    ...hookedRouteConfig,
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['email'],
        properties: {
          email: { type: 'string', minLength: 3, maxLength: 320 },
          name: { type: 'string', maxLength: 200 },
          topics: { type: 'array', maxItems: 3, items: { enum: ['newsletter', 'huddle-invites', 'pitch-digest'] } },
          themes: { type: 'array', maxItems: 30, items: { type: 'string', maxLength: 40 } },
          website: { type: 'string', maxLength: 200 },
        },
      },
    },
    // The CORS answer Convene gives a cluster's own website (no Origin here: only the Vary header).
    onSend: async (_request, reply) => {
      reply.header('vary', 'Origin');
    },
    onResponse: async (request) => {
      const body = request.body;
      if ((body.website ?? '') !== '') return;
      const email = body.email.trim().toLowerCase();
      if (!EMAIL.test(email)) return;
      const topics = JSON.stringify([...new Set(body.topics?.length ? body.topics : ['newsletter'])]);
      write.immediate(email, body.name ?? null, topics, request.ip, request.headers['user-agent'] ?? null);
    },
  },
  async (request, reply) => {
    if (!clusterBySlug.get('bench')) return reply.code(404).send({ code: 'CLUSTER_NOT_FOUND' });
    if (!EMAIL.test(request.body.email.trim().toLowerCase())) return reply.code(400).send({ code: 'VALIDATION_FAILED' });
    return reply
      .code(202)
      .send({ status: 'pending-confirmation', detail: 'If this address can be subscribed, a confirmation email is on its way.' });
  },
);
await announce(app);
