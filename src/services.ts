// The service graph: every domain service, built once from explicit dependencies, in dependency order.
// The server (buildApp), the command line and the tests all build it here, so they run the same
// services wired the same way. A module that reacts to another subscribes to that module's hooks
// where it is built (see src/lib/hooks.ts); the order below is the order of the modules' layers.
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config } from './config.js';
import type { Db } from './db/client.js';
import type { Clock } from './lib/clock.js';
import type { TimedJob } from './lib/jobs.js';
import { domainOf, isAligned, type DkimKey } from './lib/dkim.js';
import { resolveSecretKey } from './lib/secret.js';
import { siteOf } from './shared/site.js';
import { createAuditService } from './modules/audit/audit.service.js';
import { createBouncesService } from './modules/bounces/bounces.service.js';
import { createBookingsService } from './modules/bookings/bookings.service.js';
import { createCampaignScheduler } from './modules/campaigns/campaigns.scheduler.js';
import { createCampaignsService } from './modules/campaigns/campaigns.service.js';
import { createClustersService } from './modules/clusters/clusters.service.js';
import { createFeedsService } from './modules/feeds/feeds.service.js';
import { createHuddlesService } from './modules/huddles/huddles.service.js';
import { createInvitationsService } from './modules/invitations/invitations.service.js';
import { createMembersService } from './modules/members/members.service.js';
import { createSignIn } from './modules/members/members.sign-in.js';
import { createConsoleSignIn } from './modules/organisers/organisers.sign-in.js';
import { createOrganisersService } from './modules/organisers/organisers.service.js';
import { createOutbox } from './modules/outbox/outbox.service.js';
import { createMailer } from './modules/outbox/outbox.transport.js';
import { SILENT_LOGGER, type MailLogger, type MailTransport } from './modules/outbox/outbox.worker.js';
import { createReportsService } from './modules/reports/reports.service.js';
import { createRegistrationsService } from './modules/registrations/registrations.service.js';
import { createRemindersService } from './modules/reminders/reminders.service.js';
import { createSubscribersService } from './modules/subscribers/subscribers.service.js';
import { createWaitlistService } from './modules/waitlist/waitlist.service.js';

export interface ServicesDeps {
  db: Db;
  clock: Clock;
  config: Config;
  /**
   * Mail infrastructure: a transport (tests pass one to a loopback SMTP server, and close it; by
   * default SMTP_URL or .eml files, closed by close()) and where the mail workers log.
   */
  mail?: { transport?: MailTransport; logger?: MailLogger };
}

export type Services = ReturnType<typeof createServices>;

/** The instance's DKIM key (DKIM_SELECTOR, DKIM_KEY_FILE) for MAIL_FROM's domain, read once; a file that cannot be read stops the start. */
function instanceDkimKey(config: Config, fromAddress: string): DkimKey | null {
  if (!config.dkim) return null;
  let privateKey: string;
  try {
    privateKey = readFileSync(config.dkim.keyFile, 'utf8');
    createPrivateKey(privateKey);
  } catch (error) {
    throw new Error(`DKIM_KEY_FILE ${config.dkim.keyFile} is not a readable PEM private key: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { domainName: domainOf(fromAddress), keySelector: config.dkim.selector, privateKey };
}

export function createServices(deps: ServicesDeps) {
  const { db, clock, config } = deps;
  const secretKey = resolveSecretKey(config);
  const site = siteOf(config);

  const audit = createAuditService({ db, clock });
  const outbox = createOutbox({ db, clock, from: config.mailFrom, messageIdDomain: site.messageIdDomain });
  const clusters = createClustersService({ db, clock, audit, secretKey });
  // A cluster with its own sender sends as itself: its From and Reply-To on every message of its own.
  outbox.hooks.sender.on((_tx, clusterId) => clusters.senderOf(clusterId));
  // Each message is signed by the key of its From's domain: its cluster's, else the instance's.
  const instanceKey = instanceDkimKey(config, site.fromAddress);
  const sending = {
    /** The From of a cluster's messages: its own sender, else MAIL_FROM. */
    fromOf: (clusterId: string) => clusters.senderOf(clusterId)?.from ?? config.mailFrom,
    /** The key a message from `fromAddress` (of this cluster, if any) is signed with, or null. */
    keyFor(fromAddress: string, clusterId: string | null): DkimKey | null {
      const from = domainOf(fromAddress);
      const own = clusterId ? clusters.signingOf(clusterId) : { key: null, ownSender: false };
      if (own.key && isAligned(from, own.key.domainName)) return own.key;
      // The instance's key vouches only for the instance's own From, never for a cluster's sender.
      return instanceKey && !own.ownSender && isAligned(from, instanceKey.domainName) ? instanceKey : null;
    },
  };
  outbox.hooks.signing.on((row) => sending.keyFor(row.fromAddress, row.clusterId));
  const organisers = createOrganisersService({ db, clock, audit, clusters });
  const consoleSignIn = createConsoleSignIn({ db, clock, audit, outbox, clusters, site });
  const signIn = createSignIn({ db, clock, audit, outbox, clusters, site });
  const members = createMembersService({ db, clock, audit, outbox, signIn, site, secretKey });
  const subscribers = createSubscribersService({ db, clock, outbox, audit, site, secretKey });
  const campaigns = createCampaignsService({
    db,
    clock,
    audit,
    outbox,
    subscribers,
    site,
    clusterOf: (clusterId) => clusters.getById(clusterId),
  });
  const huddles = createHuddlesService({ db, clock, audit, clusters, site });
  const bookings = createBookingsService({ db, clock, audit, outbox, clusters, huddles, members, organisers, site, secretKey });
  const waitlist = createWaitlistService({ db, clock, audit, outbox, clusters, huddles, members, bookings, site, secretKey });
  const invitations = createInvitationsService({
    db,
    clock,
    outbox,
    audit,
    clusters,
    huddles,
    site,
    audiences: {
      members: members.activeRecipients,
      subscribers: (tx, clusterId) => subscribers.recipients(tx, clusterId, 'huddle-invites'),
    },
    subscribers,
  });
  const registrations = createRegistrationsService({ db, clock, audit, outbox, clusters, huddles, members, invitations, site });
  const reminders = createRemindersService({ db, clock, outbox, clusters, huddles, bookings, registrations, site });
  const feeds = createFeedsService({ clock, clusters, huddles, bookings, registrations, site });
  const reports = createReportsService({ db, clock, huddles, bookings, registrations, members });
  const bounces = createBouncesService({
    db,
    clock,
    outbox,
    subscribers,
    campaigns,
    softBounceLimit: config.softBounceLimit,
    mailgunSigningKey: config.mailgunSigningKey,
  });
  const mail = createMailer({ outbox, clock, config, transport: deps.mail?.transport, logger: deps.mail?.logger });

  const scheduler = createCampaignScheduler({
    campaigns,
    clusterOf: (clusterId) => clusters.getById(clusterId),
    outbox,
    newWorker: () => mail.worker({ pollIntervalMs: 500 }),
    concurrency: config.mailConcurrency,
    logger: deps.mail?.logger ?? SILENT_LOGGER,
    now: () => clock.now(),
  });

  /** The timed jobs every module declares, in the order the server runs them. */
  const jobs: TimedJob[] = [...waitlist.jobs, ...reminders.jobs, ...subscribers.jobs, scheduler.job];

  return {
    config,
    clock,
    site,
    secretKey,
    audit,
    outbox,
    clusters,
    organisers,
    consoleSignIn,
    signIn,
    members,
    subscribers,
    campaigns,
    bounces,
    huddles,
    bookings,
    waitlist,
    invitations,
    registrations,
    reminders,
    feeds,
    reports,
    mail,
    sending,
    scheduler,
    jobs,
    /** Stops the scheduled sends this process runs (they carry on in the next one), then closes what the graph opened (the mail transport it made); the database is its opener's to close. */
    async close(): Promise<void> {
      await scheduler.stop();
      mail.close();
    },
  };
}
