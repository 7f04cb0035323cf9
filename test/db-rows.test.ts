// fastRows (src/db/rows.ts) must give exactly the rows Drizzle gives for the same prepared select: every
// table of the schema read whole (JSON, timestamps, booleans, nulls), a join, an sql expression and a
// mapped one; and it refuses, when made, a select it cannot map.
import t from 'tap';
import { count, eq, getTableColumns, sql } from 'drizzle-orm';
import * as schema from '../src/db/schema.js';
import { fastRows } from '../src/db/rows.js';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser, createMemberWithToken, publishHuddle } from './fixtures.js';

t.test('fastRows reads every table as Drizzle does', async (t) => {
  const { app, database, config, clock } = await buildTestApp(t);
  const { db } = database;
  const { auth } = createClusterWithOrganiser(database);
  // JSON columns with values in them, a booking (booleans, null timestamps), a cancelled one (set timestamps).
  const policy = await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/north-west',
    headers: auth,
    payload: { themes: ['ai', 'medtech'], bookingPolicy: { rollingLimit: { max: 2, days: 30 }, pitchesPerOrganisationPerHuddle: 2 } },
  });
  t.equal(policy.statusCode, 200, policy.body);
  const huddleId = await publishHuddle(app, auth, { pitch: { slotCount: 3 }, themes: ['ai'] });
  const pitcher = createMemberWithToken(database, config, clock, 'north-west', { email: 'ada@example.org', organisation: 'Acme' });
  const booked = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${huddleId}/bookings`,
    headers: pitcher.auth,
    payload: { title: 'A pitch', theme: 'ai', shareContact: true },
  });
  t.equal(booked.statusCode, 201, booked.body);
  const second = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${huddleId}/bookings`,
    headers: pitcher.auth,
    payload: { title: 'Two' },
  });
  t.equal(second.statusCode, 201, second.body);
  const cancelled = await app.inject({ method: 'DELETE', url: `/v1/bookings/${second.json().id}`, headers: pitcher.auth });
  t.ok(cancelled.statusCode < 300, cancelled.body);

  let tables = 0;
  for (const value of Object.values(schema)) {
    if (!(value && typeof value === 'object' && Symbol.for('drizzle:IsDrizzleTable') in value)) continue;
    const table = value as typeof schema.clusters;
    tables += 1;
    const drizzleRows = db.select().from(table).prepare().all();
    const fast = fastRows(db.select().from(table).prepare());
    t.same(fast.all(), drizzleRows, `${Object.keys(getTableColumns(table)).length} columns`);
    t.same(fast.get(), drizzleRows[0]);
  }
  t.ok(tables >= 20, `${tables} tables`);
  t.ok(db.select().from(schema.bookings).all().length === 2, 'bookings were read, one cancelled');

  const joined = db
    .select({ id: schema.bookings.id, share: schema.bookings.shareContact, name: schema.members.name, at: schema.bookings.cancelledAt })
    .from(schema.bookings)
    .innerJoin(schema.members, eq(schema.members.id, schema.bookings.memberId))
    .where(eq(schema.bookings.huddleId, sql.placeholder('huddle')));
  t.same(fastRows(joined.prepare()).all({ huddle: huddleId }), joined.prepare().all({ huddle: huddleId }), 'a join with a placeholder');
  t.equal(fastRows(joined.prepare()).get({ huddle: 'none' }), undefined, 'no row: undefined, as Drizzle');

  const counted = db
    .select({ n: count(), latest: sql`max(${schema.bookings.createdAt})`.mapWith(schema.bookings.createdAt) })
    .from(schema.bookings);
  t.same(fastRows(counted.prepare()).get(), counted.prepare().get(), 'an sql expression, and one mapped through a column');
  t.type(fastRows(counted.prepare()).get()!.latest, Date);

  const nested = db.select({ booking: { id: schema.bookings.id } }).from(schema.bookings);
  t.throws(() => fastRows(nested.prepare()), /only a select of plain columns/, 'a nested selection is refused when made');
});
