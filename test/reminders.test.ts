// Reminders 24 hours ahead, from the real jobs worker: once per person, with the agenda and the calendar entry, even across a restart.
import t from 'tap';
import { join } from 'node:path';
import { buildTestApp, tempDir } from './helper.js';
import { createClusterWithOrganiser, createMemberWithToken } from './fixtures.js';
import { startSmtpSink } from './helpers/smtp.js';
import { parseWithIcalJs } from './helpers/calendar.js';
import { createTransport } from '../src/modules/outbox/outbox.transport.js';
import { manualClock } from '../src/lib/clock.js';
import { migrateDatabase, openDatabase } from '../src/db/client.js';

t.test('attendees and pitchers get one reminder each, with the agenda, and a restarted server sends none again', async (t) => {
  const sink = await startSmtpSink(t);
  const transport = createTransport({ smtpUrl: sink.url, mailDir: '/nonexistent', mailConcurrency: 2 });
  t.teardown(() => transport.close());
  const clock = manualClock('2026-11-23T09:00:00Z');
  // A database file, as a server has: the restart below opens it again.
  const file = join(tempDir(t), 'convene.db');
  const database = openDatabase(file);
  migrateDatabase(database.db);
  const env = { MAIL_WORKER: 'true', TIMED_JOBS: 'true', TIMED_JOB_INTERVAL_MS: '20' };
  const first = await buildTestApp(t, { clock, transport, database, env });
  const { app, config } = first;
  const org = createClusterWithOrganiser(database, 'north-west', clock);
  const huddle = (
    await app.inject({
      method: 'POST',
      url: '/v1/clusters/north-west/huddles',
      headers: org.auth,
      payload: {
        title: 'Winter huddle',
        start: '2026-11-24T10:00',
        durationMinutes: 90,
        venue: { name: 'Hall' },
        onlineUrl: 'https://meet.example.org/room',
        status: 'published',
        pitch: { slotCount: 3, bookingClosesHoursBefore: 2 },
      },
    })
  ).json();
  const member = (email: string, organisation: string) =>
    createMemberWithToken(database, config, clock, 'north-west', { email, organisation });
  const ada = member('ada@example.org', 'Acme');
  const bob = member('bob@example.org', 'Bob Co');
  const cat = member('cat@example.org', 'Cat Ltd');
  await app.inject({ method: 'POST', url: `/v1/huddles/${huddle.id}/registrations`, headers: ada.auth });
  await app.inject({ method: 'POST', url: `/v1/huddles/${huddle.id}/registrations`, headers: cat.auth });
  await app.inject({
    method: 'POST',
    url: `/v1/huddles/${huddle.id}/bookings`,
    headers: bob.auth,
    payload: { title: 'Smart stethoscope' },
  });
  await app.inject({ method: 'POST', url: `/v1/huddles/${huddle.id}/bookings`, headers: cat.auth, payload: { title: 'Gait analysis' } });
  const reminders = () => sink.messages.filter((m) => m.parsed.subject === 'Tomorrow: Winter huddle');

  await new Promise((resolve) => setTimeout(resolve, 150));
  t.equal(reminders().length, 0, 'nothing 25 hours ahead');
  clock.advance(2 * 3_600_000); // now 23 hours before the start
  for (let i = 0; i < 200 && reminders().length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 25));
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.same(
    reminders()
      .map((m) => m.envelope.to[0])
      .sort(),
    ['ada@example.org', 'bob@example.org', 'cat@example.org'],
    'one each; Cat (attending and pitching) once',
  );
  const toAda = reminders().find((m) => m.envelope.to[0] === 'ada@example.org')!;
  t.match(toAda.parsed.text, /1\. 10:00–10:05: Bob Co, "Smart stethoscope"/);
  t.match(toAda.parsed.text, /2\. 10:06–10:11: Cat Ltd, "Gait analysis"/);
  t.match(toAda.parsed.text, /Online: https:\/\/meet\.example\.org\/room/);
  const part = toAda.parsed.attachments.find((a) => a.contentType === 'text/calendar')!;
  t.match(parseWithIcalJs(part.content.toString('utf8')).events[0], { uid: `huddle-${huddle.id}@convene.test` });

  // A restart: a new app on the same database file runs the job again and sends nothing new.
  await app.close();
  await buildTestApp(t, { clock, transport, database: openDatabase(file), env });
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(reminders().length, 3, 'sent once, even across restarts');
});
