// buildApp(deps): infrastructure plugins, then one register line per module.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from './config.js';
import type { Database_ } from './db/client.js';
import { systemClock, type Clock } from './lib/clock.js';
import { loggerOptions, requestIdFrom } from './lib/logging.js';
import { version } from './lib/paths.js';
import { TOKEN_PREFIXES } from './lib/tokens.js';
import { validatorCompiler } from './lib/validation.js';
import { lazySerializerFactory } from './lib/serialization.js';
import dbPlugin from './plugins/db.js';
import problemsPlugin, { clientErrorHandler, frameworkErrorHandler } from './plugins/problems.js';
import securityPlugin from './plugins/security.js';
import authPlugin from './plugins/auth.js';
import openapiPlugin from './plugins/openapi.js';
import metricsPlugin from './plugins/metrics.js';
import healthPlugin from './plugins/health.js';
import mailerPlugin, { type MailTransport } from './plugins/mailer.js';
import { createAuditService } from './modules/audit/audit.service.js';
import { createOutbox, messageIdDomain } from './modules/outbox/outbox.service.js';
import { auditRoutes } from './modules/audit/audit.routes.js';
import { createClustersService } from './modules/clusters/clusters.service.js';
import { clustersRoutes } from './modules/clusters/clusters.routes.js';
import { createOrganisersService } from './modules/organisers/organisers.service.js';
import { createHuddlesService } from './modules/huddles/huddles.service.js';
import { huddlesRoutes } from './modules/huddles/huddles.routes.js';
import { createFeedsService } from './modules/feeds/feeds.service.js';
import { feedsRoutes } from './modules/feeds/feeds.routes.js';
import { memberFeedRoutes } from './modules/feeds/feeds.member.js';
import { createWaitlistService } from './modules/waitlist/waitlist.service.js';
import { waitlistPlace, waitlistRoutes } from './modules/waitlist/waitlist.routes.js';
import { waitlistPages } from './modules/waitlist/waitlist.pages.js';
import jobsPlugin from './plugins/jobs.js';
import { createSubscribersService } from './modules/subscribers/subscribers.service.js';
import { subscribersRoutes } from './modules/subscribers/subscribers.routes.js';
import { subscribersPages } from './modules/subscribers/subscribers.pages.js';
import { createCampaignsService } from './modules/campaigns/campaigns.service.js';
import { campaignsRoutes } from './modules/campaigns/campaigns.routes.js';
import { createRemindersService } from './modules/reminders/reminders.service.js';
import { createRegistrationsService } from './modules/registrations/registrations.service.js';
import { registrationsRoutes, registrationView } from './modules/registrations/registrations.routes.js';
import { createInvitationsService } from './modules/invitations/invitations.service.js';
import { invitationsRoutes } from './modules/invitations/invitations.routes.js';
import { createSignIn } from './modules/members/members.sign-in.js';
import { createMembersService } from './modules/members/members.service.js';
import { membersRoutes } from './modules/members/members.routes.js';
import { membersPages } from './modules/members/members.pages.js';
import assetsPlugin from './plugins/assets.js';
import idempotencyPlugin from './plugins/idempotency.js';
import { createBookingsService } from './modules/bookings/bookings.service.js';
import { bookingsRoutes, bookingView } from './modules/bookings/bookings.routes.js';
import { bookingsPages } from './modules/bookings/bookings.pages.js';
import { resolveSecretKey } from './lib/secret.js';

export interface AppDeps {
  config: Config;
  /** An open, migrated database; whoever opened it closes it. */
  database: Database_;
  clock?: Clock;
  /** Mail transport; by default built from config (SMTP_URL, or .eml files). */
  transport?: MailTransport;
  /** Log to stdout (the server) or not at all (tests). */
  logger?: boolean;
  /** Where log lines go instead of stdout (tests read them). */
  logStream?: NodeJS.WritableStream;
}

/** Trust the nearest `hops` proxies' X-Forwarded-For entries, and no further. */
function trustHops(hops: number) {
  return (_address: string, hop: number) => hop < hops;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, database } = deps;
  const clock = deps.clock ?? systemClock;
  const app = Fastify({
    logger: deps.logger === false ? false : { ...loggerOptions(config.logLevel), ...(deps.logStream ? { stream: deps.logStream } : {}) },
    // A client could forge ids into the audit log; only a trusted proxy's X-Request-Id is kept.
    genReqId: (request) => (config.trustProxy !== false ? requestIdFrom(request.headers['x-request-id'], randomUUID) : randomUUID()),
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: frameworkErrorHandler(config.publicBaseUrl),
    clientErrorHandler: clientErrorHandler(config.publicBaseUrl),
    schemaController: { compilersFactory: { buildSerializer: lazySerializerFactory } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.setValidatorCompiler(validatorCompiler());
  // JSON only: a text/plain body is an unsupported media type, not a string to validate.
  app.removeContentTypeParser('text/plain');

  const outbox = createOutbox({ db: database.db, clock, from: config.mailFrom, messageIdDomain: messageIdDomain(config) });
  const audit = createAuditService({ db: database.db, clock });
  const clusters = createClustersService({ db: database.db, clock, audit });
  const organisers = createOrganisersService({ db: database.db, clock, audit, clusters });
  const signIn = createSignIn({ db: database.db, clock, audit, outbox, baseUrl: config.publicBaseUrl });
  const secretKey = resolveSecretKey(config);
  const bookings = createBookingsService({
    db: database.db,
    clock,
    audit,
    outbox,
    clusters,
    baseUrl: config.publicBaseUrl,
    mailFrom: config.mailFrom,
    secretKey,
    onSlotFreed: (tx, huddle, slot) => waitlist.offerNext(tx, huddle, slot),
  });
  const registrations = createRegistrationsService({ db: database.db, clock, audit, outbox, clusters, baseUrl: config.publicBaseUrl, mailFrom: config.mailFrom });
  const reminders = createRemindersService({ db: database.db, clock, outbox, clusters, baseUrl: config.publicBaseUrl, mailFrom: config.mailFrom });
  const waitlist = createWaitlistService({ db: database.db, clock, audit, outbox, clusters, bookings, baseUrl: config.publicBaseUrl, secretKey });
  const members = createMembersService({
    db: database.db,
    clock,
    audit,
    clusters,
    outbox,
    signIn,
    baseUrl: config.publicBaseUrl,
    secretKey,
  });
  const subscribers = createSubscribersService({ db: database.db, clock, outbox, audit, clusters, baseUrl: config.publicBaseUrl, secretKey });
  const campaigns = createCampaignsService({ db: database.db, clock, audit, outbox, clusters, subscribers, baseUrl: config.publicBaseUrl, mailFrom: config.mailFrom });
  const invitations = createInvitationsService({
    db: database.db,
    clock,
    outbox,
    audit,
    clusters,
    baseUrl: config.publicBaseUrl,
    mailFrom: config.mailFrom,
    audiences: { members: members.activeRecipients, subscribers: (tx, clusterId) => subscribers.recipients(tx, clusterId, 'huddle-invites') },
  });
  const huddles = createHuddlesService({
    db: database.db,
    clock,
    audit,
    clusters,
    listeners: [invitations.onHuddleChanged, bookings.onHuddleChanged, waitlist.onHuddleChanged, registrations.onHuddleChanged],
    afterSave: [registrations.fillCapacity],
  });
  const feeds = createFeedsService({ db: database.db, clock, baseUrl: config.publicBaseUrl, mailFrom: config.mailFrom });

  await app.register(dbPlugin, { database, clock, config });
  await app.register(problemsPlugin, { baseUrl: config.publicBaseUrl });
  await app.register(securityPlugin, { publicPerMinute: config.publicRateLimitPerMinute });
  await app.register(authPlugin, {
    resolvers: { [TOKEN_PREFIXES.organiserKey]: organisers.resolveKey, [TOKEN_PREFIXES.memberToken]: signIn.resolveToken },
    failuresPerMinute: config.authFailureLimitPerMinute,
  });
  await app.register(idempotencyPlugin);
  await app.register(openapiPlugin, { version });
  await app.register(mailerPlugin, { outbox, clock, config, transport: deps.transport, worker: { onPermanentFailure: (row) => subscribers.onPermanentFailure(row) } });
  await app.register(metricsPlugin, { outboxBacklog: () => app.outbox.backlog() });
  await app.register(healthPlugin);
  await app.register(assetsPlugin);

  await app.register(clustersRoutes, { clusters });
  await app.register(auditRoutes, { audit });
  await app.register(huddlesRoutes, { huddles, clusters });
  await app.register(feedsRoutes, { feeds, clusters, huddles });
  await app.register(invitationsRoutes, { invitations, huddles });
  await app.register(membersRoutes, {
    members,
    signIn,
    clusters,
    extras: (member) => ({
      bookings: bookings.forMember(member.id, { since: new Date(clock.now().getTime() - 30 * 86_400_000) }).map(({ booking, slot, huddle }) => bookingView(booking, slot, huddle, member)),
      waitlist: waitlist.forMember(member.id).map((place) => waitlistPlace(place.entry, place.huddle, place.position, place.offer)),
      registrations: registrations.forMember(member.id).map((row) => registrationView(row.registration, row.huddle, row.position)),
    }),
  });
  await app.register(membersPages, { members, signIn });
  await app.register(bookingsRoutes, { bookings, huddles, members });
  await app.register(bookingsPages, { bookings, secretKey });
  await app.register(memberFeedRoutes, { members, bookings, registrations, clusters });
  await app.register(waitlistRoutes, { waitlist, members });
  await app.register(registrationsRoutes, { registrations, huddles, members });
  await app.register(subscribersRoutes, { subscribers, clusters });
  await app.register(subscribersPages, { subscribers, clusters });
  await app.register(campaignsRoutes, { campaigns, clusters });
  await app.register(waitlistPages, { waitlist, secretKey });
  await app.register(jobsPlugin, {
    jobs: [
      { name: 'waitlist-offers-expiry', run: () => waitlist.expireDue() },
      { name: 'reminders', run: () => reminders.sendDue() },
      { name: 'pending-sign-ups-expiry', run: () => subscribers.expirePending() },
    ],
  });

  return app;
}
