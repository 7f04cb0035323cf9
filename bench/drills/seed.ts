// Test data for the drills, made through the real services (as the CLI does) before the server
// starts, and huddles made over HTTP once it runs.
import { DateTime } from 'luxon';
import { loadConfig } from '../../src/config.js';
import { closeDatabase, migrateDatabase, openDatabase, type Database_ } from '../../src/db/client.js';
import { systemClock } from '../../src/lib/clock.js';
import { newId } from '../../src/lib/ids.js';
import { createClusterWithOrganiser, createMemberWithToken } from '../../test/fixtures.js';
import { call, keepAliveAgent } from './http.js';

export const CLUSTER = 'north-west';

export interface Seeded {
  clusterId: string;
  apiKey: string;
  members: { email: string; token: string }[];
}

/** Opens the drill's database file, runs `work`, closes it. */
export function withDatabase<T>(env: Record<string, string>, work: (database: Database_) => T): T {
  const database = openDatabase(loadConfig(env).databasePath);
  try {
    return work(database);
  } finally {
    closeDatabase(database.sqlite);
  }
}

/** A cluster with one organiser and `memberCount` signed-in members, each from their own organisation. */
export function seedCluster(env: Record<string, string>, memberCount: number): Seeded {
  const config = loadConfig(env);
  return withDatabase(env, (database) => {
    migrateDatabase(database.db);
    const { apiKey, cluster } = createClusterWithOrganiser(database, CLUSTER);
    const members = [];
    for (let i = 0; i < memberCount; i++) {
      const email = `member${i}@example.org`;
      const { token } = createMemberWithToken(database, config, systemClock, CLUSTER, { email, organisation: `Organisation ${i}` });
      members.push({ email, token });
    }
    return { clusterId: cluster.id, apiKey, members };
  });
}

/** `count` confirmed newsletter subscribers (reader0@example.org...), written straight into the table. */
export function seedSubscribers(env: Record<string, string>, clusterId: string, count: number): void {
  withDatabase(env, ({ sqlite }) => {
    const insert = sqlite.prepare(
      'INSERT INTO subscribers (id, cluster_id, email, status, topics, themes, created_at, updated_at, confirmed_at) VALUES (?, ?, ' +
        "?, 'confirmed', '[\"newsletter\"]', '[]', ?, ?, ?)",
    );
    const now = Date.now();
    sqlite.transaction(() => {
      for (let i = 0; i < count; i++) insert.run(newId(), clusterId, `reader${i}@example.org`, now, now, now);
    })();
  });
}

/** A published huddle with `slotCount` pitch slots (at most 50), open for booking now; returns its id and slot ids. */
export async function createHuddle(baseUrl: string, apiKey: string, title: string, slotCount: number, daysAhead = 60) {
  const agent = keepAliveAgent(1);
  try {
    const start = DateTime.now().setZone('Europe/London').plus({ days: daysAhead }).toFormat("yyyy-MM-dd'T'09:30");
    const created = await call(baseUrl, agent, {
      method: 'POST',
      path: `/v1/clusters/${CLUSTER}/huddles`,
      headers: { authorization: `Bearer ${apiKey}` },
      body: {
        title,
        start,
        durationMinutes: 6 * slotCount + 30,
        venue: { name: 'Drill hall' },
        status: 'published',
        pitch: { slotCount, slotMinutes: 5, changeoverMinutes: 1 },
      },
    });
    if (created.status !== 201) throw new Error(`creating a huddle answered ${created.status ?? created.error}: ${created.body}`);
    const id = (JSON.parse(created.body!) as { id: string }).id;
    const listed = await call(baseUrl, agent, { path: `/v1/huddles/${id}/slots` });
    const slotIds = (JSON.parse(listed.body!) as { items: { id: string }[] }).items.map((s) => s.id);
    return { id, slotIds };
  } finally {
    agent.destroy();
  }
}
