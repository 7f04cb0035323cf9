// The domain services the CLI drives: the same ones the HTTP routes use.
import type { Database_ } from '../db/client.js';
import type { Clock } from '../lib/clock.js';
import { createAuditService } from '../modules/audit/audit.service.js';
import { createClustersService } from '../modules/clusters/clusters.service.js';
import { createOrganisersService } from '../modules/organisers/organisers.service.js';

export function cliServices(database: Database_, clock: Clock) {
  const audit = createAuditService({ db: database.db, clock });
  const clusters = createClustersService({ db: database.db, clock, audit });
  const organisers = createOrganisersService({ db: database.db, clock, audit, clusters });
  return { audit, clusters, organisers };
}
