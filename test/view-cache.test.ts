// The serialised huddle views: served only at the row version they were made for, within their budget.
import t, { type Test } from 'tap';
import { createHuddleViews } from '../src/modules/huddles/huddles.view-cache.js';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser } from './fixtures.js';

const huddle = { title: 'Winter huddle', start: '2026-12-01T09:30', durationMinutes: 90, venue: { name: 'Hall' }, status: 'published' };

async function setup(t: Test) {
  const built = await buildTestApp(t);
  const org = createClusterWithOrganiser(built.database);
  const create = async (title: string, extra: Record<string, unknown> = {}) =>
    (
      await built.app.inject({
        method: 'POST',
        url: '/v1/clusters/north-west/huddles',
        headers: org.auth,
        payload: { ...huddle, ...extra, title },
      })
    ).json() as { id: string };
  return { ...built, org, create };
}

t.test('a kept view is served only at its row version: a change written elsewhere shows at once', async (t) => {
  const { app, database, create } = await setup(t);
  const { id } = await create('Winter huddle');
  t.equal((await app.inject(`/v1/huddles/${id}`)).json().title, 'Winter huddle', 'shaped and kept');
  t.equal((await app.inject(`/v1/huddles/${id}`)).json().title, 'Winter huddle', 'served as kept');
  // Another process (a second server, the CLI) saves a change: the row's version moves on.
  database.sqlite.prepare("UPDATE huddles SET title = 'Spring huddle', version = version + 1 WHERE id = ?").run(id);
  t.equal((await app.inject(`/v1/huddles/${id}`)).json().title, 'Spring huddle');
  // The same row at the same version keeps its view: the version, not the clock, says what is current.
  database.sqlite.prepare("UPDATE huddles SET title = 'Not shown' WHERE id = ?").run(id);
  t.equal((await app.inject(`/v1/huddles/${id}`)).json().title, 'Spring huddle');
});

t.test('organisers and the public get their own views of one huddle', async (t) => {
  const { app, org, create } = await setup(t);
  const { id } = await create('Winter huddle', { onlineUrl: 'https://meet.example.org/room' });
  t.notOk('onlineUrl' in (await app.inject(`/v1/huddles/${id}`)).json(), 'the public view has no online link');
  t.equal((await app.inject({ url: `/v1/huddles/${id}`, headers: org.auth })).json().onlineUrl, 'https://meet.example.org/room');
  t.notOk('onlineUrl' in (await app.inject(`/v1/huddles/${id}`)).json(), 'the organiser view, now kept too, is not served to the public');
});

t.test('the views kept stay within their budget: the least recently shown are read again', async (t) => {
  const { app, services, database, create } = await setup(t);
  const ids = [(await create('A')).id, (await create('B')).id, (await create('C')).id];
  // The real reads, counted: a view that is kept is served without reading the row.
  let reads = 0;
  const read = {
    one: (id: string) => (reads++, services.huddles.get(id)),
    many: (list: string[]) => ((reads += list.length), services.huddles.getMany(database.db, list)),
  };
  const one = (await app.inject(`/v1/huddles/${ids[0]}`)).body;
  const views = createHuddleViews({ read, clusters: services.clusters, baseUrl: 'https://convene.test', maxChars: one.length * 2 + 10 });
  const show = (id: string) => views.one(services.huddles.stamp(id), 'public');
  show(ids[0]!);
  show(ids[1]!);
  t.equal(reads, 2, 'each shaped once');
  show(ids[0]!);
  t.equal(reads, 2, 'both fit: the first is served as kept');
  show(ids[2]!);
  t.equal(reads, 3);
  show(ids[0]!);
  t.equal(reads, 3, 'the most recently shown stayed');
  show(ids[1]!);
  t.equal(reads, 4, 'the least recently shown went to make room');
});
