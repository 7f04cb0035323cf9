// Cluster profile and settings over HTTP, with every change in the audit log.
import t from 'tap';
import { buildTestApp } from './helper.js';
import { createClusterWithOrganiser } from './fixtures.js';

t.test('anyone can read a cluster profile; an unknown cluster is 404', async (t) => {
  const { app, database } = await buildTestApp(t);
  createClusterWithOrganiser(database);
  const response = await app.inject('/v1/clusters/north-west');
  t.equal(response.statusCode, 200);
  const profile = response.json();
  t.match(profile, {
    slug: 'north-west',
    name: 'Cluster north-west',
    timezone: 'Europe/London',
    themes: ['data', 'devices', 'diagnostics', 'digital'],
    bookingPolicy: { pitchesPerOrganisationPerHuddle: 1, approvalRequired: false },
  });
  t.notMatch(response.body, /organiser@|cnv_org_|token/, 'no organiser details or keys');
  const missing = await app.inject('/v1/clusters/nowhere');
  t.equal(missing.statusCode, 404);
  t.equal(missing.json().code, 'CLUSTER_NOT_FOUND');
});

t.test('an organiser changes settings; the change is audited with before and after', async (t) => {
  // Behind a trusted proxy, its X-Request-Id is kept and lands in the audit log.
  const { app, database } = await buildTestApp(t, { env: { TRUST_PROXY: '1' } });
  const { auth, organiser } = createClusterWithOrganiser(database);
  const response = await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/north-west',
    headers: { ...auth, 'x-request-id': 'req-test-0001' },
    payload: {
      name: 'North West HealthTec Cluster',
      timezone: 'Europe/Dublin',
      contactEmail: 'Hello@NWHealthTec.example',
      websiteUrl: 'https://nwhealthtec.example',
      themes: ['data', 'devices', 'diagnostics', 'digital', 'genomics'],
      bookingPolicy: { approvalRequired: true, rollingLimit: { max: 2, days: 90 } },
    },
  });
  t.equal(response.statusCode, 200, response.body);
  t.match(response.json(), {
    name: 'North West HealthTec Cluster',
    timezone: 'Europe/Dublin',
    contactEmail: 'hello@nwhealthtec.example',
    themes: ['data', 'devices', 'diagnostics', 'digital', 'genomics'],
    bookingPolicy: { approvalRequired: true, rollingLimit: { max: 2, days: 90 }, pitchesPerOrganisationPerHuddle: 1 },
  });
  t.equal((await app.inject('/v1/clusters/north-west')).json().name, 'North West HealthTec Cluster', 'persisted');

  const audit = await app.inject({ url: '/v1/clusters/north-west/audit', headers: auth });
  t.equal(audit.statusCode, 200);
  const [latest] = audit.json().items;
  t.match(latest, {
    action: 'cluster.updated',
    actor: { type: 'organiser', id: organiser.id, label: 'Olivia Organiser' },
    target: { type: 'cluster' },
    before: { name: 'Cluster north-west', timezone: 'Europe/London' },
    after: { name: 'North West HealthTec Cluster', timezone: 'Europe/Dublin' },
    requestId: 'req-test-0001',
  });
  t.notOk('slug' in latest.after, 'only changed fields are summarised');
});

t.test('a patch that changes nothing writes no audit event', async (t) => {
  const { app, database } = await buildTestApp(t);
  const { auth } = createClusterWithOrganiser(database);
  const before = (await app.inject({ url: '/v1/clusters/north-west/audit', headers: auth })).json().items.length;
  const response = await app.inject({
    method: 'PATCH',
    url: '/v1/clusters/north-west',
    headers: auth,
    payload: { name: 'Cluster north-west' },
  });
  t.equal(response.statusCode, 200);
  t.equal((await app.inject({ url: '/v1/clusters/north-west/audit', headers: auth })).json().items.length, before);
});

t.test('the audit log pages with a cursor, newest first', async (t) => {
  const { app, database } = await buildTestApp(t);
  const { auth } = createClusterWithOrganiser(database);
  for (let i = 1; i <= 5; i++) {
    const r = await app.inject({ method: 'PATCH', url: '/v1/clusters/north-west', headers: auth, payload: { name: `Name ${i}` } });
    t.equal(r.statusCode, 200);
  }
  // 2 events from set-up (cluster.created, organiser.created) + 5 updates.
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: { action: string; after: { name?: string } }[]; nextCursor: string | null } = (
      await app.inject({ url: `/v1/clusters/north-west/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`, headers: auth })
    ).json();
    t.ok(page.items.length <= 3);
    seen.push(...page.items.map((item) => (item.action === 'cluster.updated' ? item.after.name! : item.action)));
    cursor = page.nextCursor;
  } while (cursor);
  t.same(seen, ['Name 5', 'Name 4', 'Name 3', 'Name 2', 'Name 1', 'organiser.created', 'cluster.created']);

  const bad = await app.inject({ url: '/v1/clusters/north-west/audit?cursor=bm90LWEtY3Vyc29y', headers: auth });
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().code, 'VALIDATION_FAILED');
  const tooMany = await app.inject({ url: '/v1/clusters/north-west/audit?limit=1000', headers: auth });
  t.equal(tooMany.statusCode, 400);
});
