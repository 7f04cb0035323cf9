// Erasure leaves no copy of the address in the database file: not in its free pages, not in the WAL.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { migrateDatabase, openDatabase } from '../src/db/client.js';
import { manualClock } from '../src/lib/clock.js';
import { createClusterWithOrganiser } from './fixtures.js';
import { buildTestApp, tempDir } from './helper.js';
import { startSmtpSink } from './helpers/smtp.js';

/** The app on a database file (so its bytes can be read), with an SMTP server and a cluster. */
async function fileSetup(t: Test) {
  const sink = await startSmtpSink(t);
  const path = join(tempDir(t), 'convene.db');
  const database = openDatabase(path);
  migrateDatabase(database.db);
  const { app, services } = await buildTestApp(t, { database, env: { SMTP_URL: sink.url } });
  const { auth, cluster } = createClusterWithOrganiser(database);
  return { sink, path, database, app, services, auth, cluster };
}

t.test('after DELETE /v1/subscribers/{id} the address is nowhere in the database file or its WAL', async (t) => {
  const { sink, path, database, app, services, auth, cluster } = await fileSetup(t);
  const address = 'erase.me.please@example.org';
  const person = (email: string) => {
    services.subscribers.signUp(cluster, { email, name: 'Erasable Person' }, { source: 'api', ip: '203.0.113.9', userAgent: 'Agent/1' });
    const row = database.sqlite.prepare('SELECT id FROM subscribers WHERE email = ?').get(email) as { id: string };
    services.subscribers.confirm(services.subscribers.get(cluster, row.id), { source: 'email-link' });
    return row.id;
  };
  const id = person(address);
  for (let i = 0; i < 40; i++) person(`neighbour-${i}@example.org`);
  // A newsletter to everyone: the address goes into the delivery ledger and the outbox, and is mailed.
  const actor = { type: 'cli' as const, label: 'test' };
  const campaign = services.campaigns.createDraft(cluster, { subject: 'News', body: 'Hello' }, actor);
  services.campaigns.start(campaign.id, actor);
  const started = services.campaigns.get(campaign.id);
  services.campaigns.enqueueBatch(started, services.campaigns.render(started, cluster), 100);
  await services.mail.worker({ concurrency: 2 }).drain();
  t.ok(
    sink.messages.some((m) => m.envelope.to[0] === address),
    'the newsletter reached the address',
  );

  const copies = () =>
    ['', '-wal', '-journal'].filter((suffix) => existsSync(path + suffix) && readFileSync(path + suffix).includes(address));
  // Before: in the file (or still in its WAL).
  t.not(copies().length, 0, 'the address is in the database before erasure');

  const erased = await app.inject({ method: 'DELETE', url: `/v1/subscribers/${id}`, headers: auth });
  t.equal(erased.statusCode, 204);
  t.same(copies(), [], 'no copy in the main file or the WAL right after erasure');
  t.equal((database.sqlite.prepare('SELECT count(*) AS n FROM subscribers').get() as { n: number }).n, 40, 'the others are kept');

  // And none once the server has closed (its checkpoint folds the WAL back into the file).
  await app.close();
  t.same(copies(), [], 'no copy after the app closes');
  const reopened = openDatabase(path, { mustExist: true });
  t.teardown(() => reopened.sqlite.close());
  t.equal((reopened.sqlite.prepare('SELECT count(*) AS n FROM subscribers').get() as { n: number }).n, 40);
});

t.test('a sign-up that lapses unconfirmed leaves no copy of its address in the file either', async (t) => {
  const path = join(tempDir(t), 'convene.db');
  const database = openDatabase(path);
  migrateDatabase(database.db);
  const clock = manualClock('2026-11-23T09:00:00Z');
  const { services } = await buildTestApp(t, { database, clock });
  const { cluster } = createClusterWithOrganiser(database, 'north-west', clock);
  const address = 'never.confirmed@example.org';
  services.subscribers.signUp(cluster, { email: address }, { source: 'api' });
  services.outbox.forgetRecipient(database.db, cluster.id, address); // only the sign-up is looked at here
  const inFile = () => ['', '-wal'].some((suffix) => existsSync(path + suffix) && readFileSync(path + suffix).includes(address));
  t.ok(inFile());
  clock.advance(31 * 86_400_000);
  const expiry = services.subscribers.jobs.find((job) => job.name === 'pending-sign-ups-expiry')!;
  t.equal(expiry.run(), 1);
  t.notOk(inFile(), 'gone from the file and the WAL');
});

t.test('an erased subscriber leaves no invitation behind: their address is gone from the file, other invitations stay', async (t) => {
  const { sink, path, database, app, services, auth, cluster } = await fileSetup(t);
  const address = 'invited.subscriber@example.org';
  const subscribe = (email: string) => {
    services.subscribers.signUp(
      cluster,
      { email, name: 'Invited Person', topics: ['huddle-invites'] },
      { source: 'api', ip: '203.0.113.9', userAgent: 'Agent/1' },
    );
    const row = database.sqlite.prepare('SELECT id FROM subscribers WHERE email = ?').get(email) as { id: string };
    services.subscribers.confirm(services.subscribers.get(cluster, row.id), { source: 'email-link' });
    return row.id;
  };
  const id = subscribe(address);
  subscribe('stays@example.org');
  const huddle = await app.inject({
    method: 'POST',
    url: `/v1/clusters/${cluster.slug}/huddles`,
    headers: auth,
    payload: { title: 'Winter huddle', start: '2026-12-10T09:30', durationMinutes: 60, venue: { name: 'Hall' }, status: 'published' },
  });
  t.equal(huddle.statusCode, 201, huddle.body);
  const invited = await app.inject({
    method: 'POST',
    url: `/v1/huddles/${huddle.json().id}/invitations`,
    headers: auth,
    payload: { audience: 'subscribers' },
  });
  t.equal(invited.statusCode, 202, invited.body);
  await services.mail.worker({ concurrency: 2 }).drain();
  t.ok(
    sink.messages.some((m) => m.envelope.to[0] === address),
    'the invitation reached the subscriber',
  );
  const count = (email: string) =>
    (database.sqlite.prepare('SELECT count(*) AS n FROM invitations WHERE email = ?').get(email) as { n: number }).n;
  t.equal(count(address), 1);

  t.equal((await app.inject({ method: 'DELETE', url: `/v1/subscribers/${id}`, headers: auth })).statusCode, 204);
  t.equal(count(address), 0, 'their invitation is gone');
  t.equal(count('stays@example.org'), 1, "another subscriber's stays");
  const copies = ['', '-wal'].filter((suffix) => existsSync(path + suffix) && readFileSync(path + suffix).includes(address));
  t.same(copies, [], 'no copy of the address in the file or the WAL');
  // A later change to the huddle is not sent to the erased address.
  const mailedBefore = sink.messages.filter((m) => m.envelope.to[0] === address).length;
  await app.inject({ method: 'PATCH', url: `/v1/huddles/${huddle.json().id}`, headers: auth, payload: { title: 'Winter huddle, moved' } });
  await services.mail.worker({ concurrency: 2 }).drain();
  t.ok(
    sink.messages.some((m) => m.envelope.to[0] === 'stays@example.org' && /updated/i.test(m.parsed.subject ?? '')),
    'the others get the update',
  );
  t.equal(sink.messages.filter((m) => m.envelope.to[0] === address).length, mailedBefore, 'no update goes to an erased person');
});
