// The domain services the CLI drives: the same ones the HTTP routes use.
import type { Config } from '../config.js';
import type { Database_ } from '../db/client.js';
import type { Clock } from '../lib/clock.js';
import { resolveSecretKey } from '../lib/secret.js';
import { createAuditService } from '../modules/audit/audit.service.js';
import { createClustersService } from '../modules/clusters/clusters.service.js';
import { createMembersService } from '../modules/members/members.service.js';
import { createSignIn } from '../modules/members/members.sign-in.js';
import { createOrganisersService } from '../modules/organisers/organisers.service.js';
import { createOutbox, messageIdDomain } from '../modules/outbox/outbox.service.js';
import { createSubscribersService } from '../modules/subscribers/subscribers.service.js';
import { createCampaignsService } from '../modules/campaigns/campaigns.service.js';

export function cliServices(database: Database_, clock: Clock) {
  const audit = createAuditService({ db: database.db, clock });
  const clusters = createClustersService({ db: database.db, clock, audit });
  const organisers = createOrganisersService({ db: database.db, clock, audit, clusters });
  return { audit, clusters, organisers };
}

/** Services that send mail (through the outbox, which the server's worker delivers) need the config too. */
export function cliMailingServices(database: Database_, clock: Clock, config: Config) {
  const base = cliServices(database, clock);
  const outbox = createOutbox({ db: database.db, clock, from: config.mailFrom, messageIdDomain: messageIdDomain(config) });
  const signIn = createSignIn({ db: database.db, clock, audit: base.audit, outbox, baseUrl: config.publicBaseUrl });
  const members = createMembersService({
    db: database.db,
    clock,
    audit: base.audit,
    clusters: base.clusters,
    outbox,
    signIn,
    baseUrl: config.publicBaseUrl,
    secretKey: resolveSecretKey(config),
  });
  const secretKey = resolveSecretKey(config);
  const subscribers = createSubscribersService({ db: database.db, clock, outbox, audit: base.audit, clusters: base.clusters, baseUrl: config.publicBaseUrl, secretKey });
  const campaigns = createCampaignsService({ db: database.db, clock, audit: base.audit, outbox, clusters: base.clusters, subscribers, baseUrl: config.publicBaseUrl, mailFrom: config.mailFrom });
  return { ...base, outbox, signIn, members, subscribers, campaigns };
}
