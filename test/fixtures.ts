// Test data made through the real services (the same ones the CLI uses).
import type { Database_ } from '../src/db/client.js';
import { systemClock, type Clock } from '../src/lib/clock.js';
import { cliServices } from '../src/cli/services.js';

export function createCluster(database: Database_, slug = 'north-west', clock: Clock = systemClock) {
  return cliServices(database, clock).clusters.create({ slug, name: `Cluster ${slug}` }, { type: 'cli', label: 'test' });
}

/** A cluster with one organiser; returns the organiser's API key. */
export function createClusterWithOrganiser(database: Database_, slug = 'north-west', clock: Clock = systemClock) {
  const cluster = createCluster(database, slug, clock);
  const issued = cliServices(database, clock).organisers.create(
    slug,
    { email: `organiser@${slug}.example`, name: 'Olivia Organiser' },
    { type: 'cli', label: 'test' },
  );
  return { cluster, apiKey: issued.apiKey, organiser: issued.organiser, auth: { authorization: `Bearer ${issued.apiKey}` } };
}
