// Baseline: a booking's own work written by hand (issue 16, item 1), for the booking burst. The same path,
// body schema and bearer token as Convene; then, on prepared better-sqlite3 statements over Convene's own
// migrated tables (the same indexes and foreign keys), in one IMMEDIATE transaction: the member behind the
// token's hash, the huddle and its cluster, the organisation's active pitches, the free slots and the ones
// offered to the waitlist; the booking row, a confirmation email of the same size with its calendar
// (REQUEST) in outbox and outbox_bodies, and an audit entry. 201 with the booking, or 409 problem+json.
// With BENCH_HOOKS=1 it adds what every Convene request pays besides (bench/baselines/hooks.ts).
// Seeds BENCH_HUDDLES huddles of 10 slots and 200 members, and announces their ids and tokens.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { migrateDatabase, openDatabase } from '../../src/db/client.js';
import { announce, profileUntilExit } from '../servers/ready.js';
import { addHooks, hookedOptions, hookedRouteConfig } from './hooks.js';

const HUDDLES = Number(process.env.BENCH_HUDDLES ?? 40);
const MEMBERS = 200;
const SLOTS = 10;
const ZONE = 'Europe/London';
const { sqlite, db } = openDatabase(join(mkdtempSync(join(tmpdir(), 'convene-bench-')), 'booking.db'));
migrateDatabase(db);

// Seeding: one cluster, its members with a token each, huddles in a week whose booking is open.
const now0 = Date.now();
const clusterId = randomUUID();
const policy = JSON.stringify({ pitchesPerOrganisationPerHuddle: 1 });
sqlite
  .prepare(
    `INSERT INTO clusters (id, slug, name, timezone, themes, booking_policy, created_at, updated_at)
     VALUES (?, 'bench', 'Bench Cluster', ?, '[]', ?, ?, ?)`,
  )
  .run(clusterId, ZONE, policy, now0, now0);
const tokens: string[] = [];
const huddleIds: string[] = [];
sqlite.transaction(() => {
  const member = sqlite.prepare(
    `INSERT INTO members (id, cluster_id, email, name, organisation, organisation_type, status, feed_token_hash, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 'company', 'active', ?, ?, ?)`,
  );
  const token = sqlite.prepare(
    'INSERT INTO member_tokens (id, member_id, token_hash, created_at, expires_at, kind) VALUES (?, ?, ?, ?, ?, ?)',
  );
  for (let i = 0; i < MEMBERS; i++) {
    const id = randomUUID();
    member.run(id, clusterId, `member${i}@example.org`, `Member ${i}`, `Organisation ${i}`, randomUUID(), now0, now0);
    const secret = `cnv_mem_${randomBytes(24).toString('base64url')}`;
    token.run(randomUUID(), id, createHash('sha256').update(secret).digest('hex'), now0, now0 + 86_400_000 * 30, 'api');
    tokens.push(secret);
  }
  const huddle = sqlite.prepare(
    `INSERT INTO huddles (id, cluster_id, title, starts_at, ends_at, timezone, themes, status, slot_count, slot_minutes, changeover_minutes,
       pitch_offset_minutes, booking_opens_days_before, booking_closes_hours_before, cancellation_cutoff_hours, approval_required, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, '[]', 'published', 10, 5, 0, 0, NULL, 1, 24, 0, ?, ?)`,
  );
  const slot = sqlite.prepare('INSERT INTO slots (id, huddle_id, position, starts_at, ends_at) VALUES (?, ?, ?, ?, ?)');
  for (let h = 0; h < HUDDLES; h++) {
    const id = randomUUID();
    const starts = now0 + 7 * 86_400_000 + h * 3_600_000;
    huddle.run(id, clusterId, `Bench huddle ${h}`, starts, starts + 3_600_000, ZONE, now0, now0);
    for (let p = 1; p <= SLOTS; p++) slot.run(randomUUID(), id, p, starts + (p - 1) * 300_000, starts + p * 300_000);
    huddleIds.push(id);
  }
})();

const tokenByHash = sqlite.prepare(
  `SELECT t.id, t.expires_at, t.revoked_at, t.last_used_at, m.id AS member_id, m.status, m.cluster_id
   FROM member_tokens t JOIN members m ON m.id = t.member_id WHERE t.token_hash = ?`,
);
const touch = sqlite.prepare('UPDATE member_tokens SET last_used_at = ? WHERE id = ?');
const memberById = sqlite.prepare('SELECT id, name, email, organisation, status FROM members WHERE id = ?');
const huddleById = sqlite.prepare(
  `SELECT id, cluster_id, title, starts_at, ends_at, timezone, status, booking_opens_days_before, booking_closes_hours_before,
     cancellation_cutoff_hours, approval_required, venue_name, online_url, sequence FROM huddles WHERE id = ?`,
);
const clusterById = sqlite.prepare('SELECT name, booking_policy FROM clusters WHERE id = ?');
const organisationActive = sqlite
  .prepare("SELECT count(*) FROM bookings WHERE huddle_id = ? AND organisation_key = ? AND status IN ('pending', 'confirmed')")
  .pluck();
const freeSlots = sqlite.prepare(
  `SELECT id, position, starts_at, ends_at FROM slots WHERE huddle_id = ? AND NOT EXISTS
     (SELECT 1 FROM bookings WHERE bookings.slot_id = slots.id AND bookings.status IN ('pending', 'confirmed')) ORDER BY position`,
);
const offered = sqlite.prepare("SELECT slot_id FROM waitlist_offers WHERE huddle_id = ? AND status = 'open'").pluck();
const insertBooking = sqlite.prepare(
  `INSERT INTO bookings (id, huddle_id, slot_id, member_id, organisation_key, title, summary, status, sequence, created_at, updated_at, share_contact)
   VALUES (?, ?, ?, ?, ?, ?, ?, 'confirmed', 0, ?, ?, 0)`,
);
const insertOutbox = sqlite.prepare(
  `INSERT INTO outbox (id, message_id, cluster_id, kind, to_address, from_address, subject, calendar_method, status, attempts, next_attempt_at, created_at)
   VALUES (?, ?, ?, 'pitch.confirmed', ?, 'Convene <convene@convene.bench>', ?, 'REQUEST', 'queued', 0, ?, ?)`,
);
const insertBody = sqlite.prepare("INSERT INTO outbox_bodies (outbox_id, text, html, headers, calendar) VALUES (?, ?, ?, '{}', ?)");
const insertAudit = sqlite.prepare(
  `INSERT INTO audit_events (id, cluster_id, actor_type, actor_id, actor_label, action, target_type, target_id, after, request_id, at)
   VALUES (?, ?, 'member', ?, ?, 'booking.created', 'booking', ?, ?, ?, ?)`,
);

// Local times with their offset, as the API shows them ("2026-12-07T09:30:00+00:00"), one formatter made once.
const parts = new Intl.DateTimeFormat('en-GB', {
  timeZone: ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  timeZoneName: 'longOffset',
});
function zoned(ms: number): string {
  const p = Object.fromEntries(parts.formatToParts(ms).map((part) => [part.type, part.value]));
  const offset = p.timeZoneName === 'GMT' ? '+00:00' : p.timeZoneName!.slice(3);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${offset}`;
}
const icsTime = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
const TEXT = 'Your pitch is confirmed. Arrive ten minutes early; the host calls each pitch in slot order. '.repeat(4);
const HTML = `<!doctype html><html><body style="margin:0;padding:0">${'<p style="margin:0 0 16px">Your pitch is confirmed.</p>'.repeat(24)}`;

type Refusal = { status: number; code: string; title: string; detail: string };
const refuse = (status: number, code: string, title: string, detail: string): Refusal => ({ status, code, title, detail });

const book = sqlite.transaction((memberId: string, huddleId: string, title: string, summary: string, requestId: string) => {
  const now = Date.now();
  const member = memberById.get(memberId) as { id: string; name: string; email: string; organisation: string; status: string };
  const huddle = huddleById.get(huddleId) as
    | {
        id: string;
        cluster_id: string;
        title: string;
        starts_at: number;
        ends_at: number;
        status: string;
        booking_closes_hours_before: number;
      }
    | undefined;
  if (!huddle || huddle.status !== 'published') return refuse(404, 'HUDDLE_NOT_FOUND', 'No such huddle', `There is no huddle ${huddleId}`);
  if (now > huddle.starts_at - huddle.booking_closes_hours_before * 3_600_000)
    return refuse(409, 'BOOKING_CLOSED', 'Booking is closed', 'Booking for pitches has closed');
  const cluster = clusterById.get(huddle.cluster_id) as { name: string; booking_policy: string };
  const limit = (JSON.parse(cluster.booking_policy) as { pitchesPerOrganisationPerHuddle: number }).pitchesPerOrganisationPerHuddle;
  const orgKey = member.organisation.trim().toLowerCase();
  if ((organisationActive.get(huddle.id, orgKey) as number) >= limit)
    return refuse(409, 'BOOKING_LIMIT_REACHED', 'Booking limit reached', 'Your organisation already pitches at this huddle');
  const held = new Set(offered.all(huddle.id) as string[]);
  const slot = (freeSlots.all(huddle.id) as { id: string; position: number; starts_at: number; ends_at: number }[]).find(
    (free) => !held.has(free.id),
  );
  if (!slot)
    return refuse(
      409,
      'NO_SLOTS_LEFT',
      'Every slot of this huddle is booked',
      'Every slot of this huddle is booked; join the waitlist to be offered one that frees up',
    );
  const id = randomUUID();
  insertBooking.run(id, huddle.id, slot.id, member.id, orgKey, title, summary, now, now);
  const calendar = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Convene//Bench//EN',
    'METHOD:REQUEST',
    'BEGIN:VEVENT',
    `UID:pitch-${id}@convene.bench`,
    'SEQUENCE:0',
    `DTSTAMP:${icsTime(now)}`,
    `DTSTART:${icsTime(slot.starts_at)}`,
    `DTEND:${icsTime(slot.ends_at)}`,
    `SUMMARY:Pitch: ${title}`,
    `DESCRIPTION:Your pitch at ${huddle.title}\\, slot ${slot.position}. https://convene.bench/h/${huddle.id}`,
    `URL:https://convene.bench/h/${huddle.id}`,
    'ORGANIZER;CN=Bench Cluster:mailto:convene@convene.bench',
    `ATTENDEE;CN=${member.name};ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:${member.email}`,
    'STATUS:CONFIRMED',
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
  const outboxId = randomUUID();
  const subject = `Pitch confirmed: ${huddle.title}`;
  insertOutbox.run(outboxId, `<${outboxId}@convene.bench>`, huddle.cluster_id, member.email, subject, now, now);
  insertBody.run(outboxId, `${TEXT}\n${zoned(slot.starts_at)}\n`, `${HTML}<p>${zoned(slot.starts_at)}</p></body></html>`, calendar);
  insertAudit.run(
    randomUUID(),
    huddle.cluster_id,
    member.id,
    member.name,
    id,
    JSON.stringify({ huddleId: huddle.id, slot: slot.position, status: 'confirmed', title }),
    requestId,
    now,
  );
  const at = new Date(now).toISOString();
  return {
    id,
    huddleId: huddle.id,
    status: 'confirmed',
    slot: { id: slot.id, position: slot.position, start: zoned(slot.starts_at), end: zoned(slot.ends_at) },
    title,
    summary,
    theme: null,
    shareContact: false,
    organisation: member.organisation,
    member: { id: member.id, name: member.name, email: member.email },
    cancelledBy: null,
    memberCanCancelUntil: new Date(huddle.starts_at - 24 * 3_600_000).toISOString(),
    createdAt: at,
    updatedAt: at,
  };
});

const app = Fastify({ logger: false, ...hookedOptions });
await addHooks(app);
app.post<{ Params: { huddle: string }; Body: { title: string; summary?: string } }>(
  '/v1/huddles/:huddle/bookings',
  {
    ...hookedRouteConfig,
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['title'],
        properties: {
          title: { type: 'string', minLength: 1, maxLength: 120 },
          summary: { type: 'string', maxLength: 1000 },
          slotId: { type: 'string' },
          theme: { type: 'string', maxLength: 40 },
          shareContact: { type: 'boolean' },
        },
      },
    },
  },
  async (request, reply) => {
    const presented = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    const row = presented
      ? (tokenByHash.get(createHash('sha256').update(presented).digest('hex')) as
          | { id: string; expires_at: number; revoked_at: number | null; last_used_at: number | null; member_id: string; status: string }
          | undefined)
      : undefined;
    const now = Date.now();
    if (!row || row.revoked_at !== null || row.expires_at <= now || row.status !== 'active')
      return reply.code(401).type('application/problem+json').send({ code: 'UNAUTHORIZED' });
    if (row.last_used_at === null || now - row.last_used_at >= 60_000) touch.run(now, row.id);
    const answer = book.immediate(
      row.member_id,
      request.params.huddle,
      request.body.title.trim(),
      request.body.summary?.trim() ?? '',
      request.id,
    );
    if ('code' in answer && 'status' in answer && typeof answer.status === 'number') {
      const { status, ...problem } = answer;
      return reply
        .code(status)
        .type('application/problem+json')
        .send({ type: `https://convene.bench/problems/${problem.code}`, status, ...problem, instance: request.url });
    }
    return reply.code(201).send(answer);
  },
);
// BENCH_PROFILE=<file>: a CPU profile from the end of seeding until the server is stopped, as the app's.
if (process.env.BENCH_PROFILE) await profileUntilExit(process.env.BENCH_PROFILE);
await announce(app, { huddles: huddleIds, tokens });
