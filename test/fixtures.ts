// Test data made through the real services (the same ones the CLI uses).
import type { Database_ } from '../src/db/client.js';
import { systemClock, type Clock } from '../src/lib/clock.js';
import { loadConfig, type Config } from '../src/config.js';
import type { OrganisationType } from '../src/db/schema.js';
import { createServices } from '../src/services.js';
import { TEST_SECRET } from './helper.js';

/** The services over a test's database, as the CLI and the app build them (with the test apps' settings unless given). */
export function servicesFor(database: Database_, clock: Clock = systemClock, config?: Config) {
  const settings =
    config ??
    loadConfig({ DATABASE_PATH: ':memory:', SECRET_KEY: TEST_SECRET, PUBLIC_BASE_URL: 'https://convene.test', LOG_LEVEL: 'silent' });
  return createServices({ db: database.db, clock, config: settings });
}

export function createCluster(database: Database_, slug = 'north-west', clock: Clock = systemClock) {
  return servicesFor(database, clock).clusters.create({ slug, name: `Cluster ${slug}` }, { type: 'cli', label: 'test' });
}

/** A cluster with one organiser; returns the organiser's API key. */
export function createClusterWithOrganiser(database: Database_, slug = 'north-west', clock: Clock = systemClock) {
  const cluster = createCluster(database, slug, clock);
  const issued = servicesFor(database, clock).organisers.create(
    slug,
    { email: `organiser@${slug}.example`, name: 'Olivia Organiser' },
    { type: 'cli', label: 'test' },
  );
  return { cluster, apiKey: issued.apiKey, organiser: issued.organiser, auth: { authorization: `Bearer ${issued.apiKey}` } };
}

/** A member signed in through the real sign-in service (a code issued and exchanged); returns their bearer header. */
export function createMemberWithToken(
  database: Database_,
  config: Config,
  clock: Clock,
  clusterSlug: string,
  input: { email: string; name?: string; organisation: string; organisationType?: OrganisationType },
) {
  const services = servicesFor(database, clock, config);
  const cluster = services.clusters.get(clusterSlug);
  const member = services.members.create(
    cluster,
    {
      email: input.email,
      name: input.name ?? input.email.split('@')[0]!,
      organisation: input.organisation,
      organisationType: input.organisationType ?? 'company',
    },
    { type: 'cli', label: 'test' },
  );
  const code = database.db.transaction((tx) => services.signIn.issueCode(tx, member.id));
  const issued = services.signIn.exchange(code);
  return { member, token: issued.token, auth: { authorization: `Bearer ${issued.token}` } };
}

/**
 * A published huddle made through the API as an organiser would (Winter huddle, 10 December 2026 at
 * 09:30, 90 minutes, at "Hall"); `changes` override any field. Returns its id.
 */
export async function publishHuddle(
  app: {
    inject(options: {
      method: 'POST';
      url: string;
      headers: Record<string, string>;
      payload: Record<string, unknown>;
    }): Promise<{ statusCode: number; body: string; json(): unknown }>;
  },
  auth: Record<string, string>,
  changes: Record<string, unknown> = {},
  cluster = 'north-west',
): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: `/v1/clusters/${cluster}/huddles`,
    headers: auth,
    payload: {
      title: 'Winter huddle',
      start: '2026-12-10T09:30',
      durationMinutes: 90,
      venue: { name: 'Hall' },
      status: 'published',
      ...changes,
    },
  });
  if (response.statusCode !== 201) throw new Error(`the huddle was not created: ${response.body}`);
  return (response.json() as { id: string }).id;
}

/**
 * A console session for this address, started as a person does (the sign-in email is queued, its link's
 * code spent): the Cookie header value the console's pages take.
 */
export function consoleCookie(database: Database_, clock: Clock, email: string): string {
  const services = servicesFor(database, clock);
  services.consoleSignIn.requestLink(email);
  const text = (
    database.sqlite
      .prepare(
        "SELECT text FROM outbox JOIN outbox_bodies ON outbox_id = id WHERE kind = 'organiser.sign_in' AND to_address = ? ORDER BY outbox.rowid DESC",
      )
      .get(email) as { text: string }
  ).text;
  return `convene_console=${services.consoleSignIn.startSession(decodeURIComponent(/code=(\S+)/.exec(text)![1]!), null).token}`;
}
