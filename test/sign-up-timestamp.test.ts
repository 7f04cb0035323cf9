// A sign-up runs on one timestamp: the row's creation, its notice time and the confirmation it sends
// all carry the same instant, even when the clock moves on while it runs (it used to take a second
// reading and write the notice time again in one sign-up in twelve).
import t from 'tap';
import type { Clock } from '../src/lib/clock.js';
import { buildTestApp } from './helper.js';
import { createCluster } from './fixtures.js';

t.test('one timestamp through a sign-up, however the clock moves meanwhile', async (t) => {
  let ms = Date.parse('2026-11-23T09:00:00Z');
  // Every reading is a millisecond later than the last, as a busy server's clock can be.
  const ticking: Clock = { now: () => new Date((ms += 1)) };
  const { app, database } = await buildTestApp(t, { clock: ticking });
  createCluster(database, 'north-west');
  const answer = await app.inject({
    method: 'POST',
    url: '/v1/clusters/north-west/subscriptions',
    payload: { email: 'ada@example.org' },
  });
  t.equal(answer.statusCode, 202);
  for (let i = 0; i < 50; i++) {
    const row = database.sqlite.prepare('SELECT created_at AS created, last_notice_at AS notice FROM subscribers').get() as
      { created: number; notice: number } | undefined;
    if (row) {
      t.equal(row.notice, row.created, 'the notice time is the sign-up time');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  t.fail('the sign-up was not written');
});
