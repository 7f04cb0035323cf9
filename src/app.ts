// buildApp(deps): the HTTP server over a service graph: infrastructure plugins, then one register line per module.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { lockWaits, writeTurnWaits, type Database_ } from './db/client.js';
import { loggerOptions, requestIdFrom } from './lib/logging.js';
import { version } from './lib/paths.js';
import { TOKEN_PREFIXES } from './lib/tokens.js';
import { validatorCompiler } from './lib/validation.js';
import { lazySerializerFactory } from './lib/serialization.js';
import type { Services } from './services.js';
import { jsonBodies } from './plugins/bodies.js';
import dbPlugin from './plugins/db.js';
import contextPlugin from './plugins/context.js';
import problemsPlugin, { clientErrorHandler, frameworkErrorHandler } from './plugins/problems.js';
import securityPlugin from './plugins/security.js';
import authPlugin from './plugins/auth.js';
import idempotencyPlugin from './plugins/idempotency.js';
import writeTurnsPlugin from './plugins/write-turns.js';
import openapiPlugin from './plugins/openapi.js';
import mailerPlugin, { type MailRunner } from './plugins/mailer.js';
import inboundMailPlugin from './plugins/inbound-mail.js';
import metricsPlugin from './plugins/metrics.js';
import healthPlugin from './plugins/health.js';
import assetsPlugin from './plugins/assets.js';
import jobsPlugin from './plugins/jobs.js';
import { clustersRoutes } from './modules/clusters/clusters.routes.js';
import { auditRoutes } from './modules/audit/audit.routes.js';
import { huddlesRoutes } from './modules/huddles/huddles.routes.js';
import { feedsRoutes } from './modules/feeds/feeds.routes.js';
import { invitationsRoutes } from './modules/invitations/invitations.routes.js';
import { membersRoutes } from './modules/members/members.routes.js';
import { membersPages } from './modules/members/members.pages.js';
import { accountRoutes } from './modules/account/account.routes.js';
import { bookingsRoutes } from './modules/bookings/bookings.routes.js';
import { bookingsPages } from './modules/bookings/bookings.pages.js';
import { waitlistRoutes } from './modules/waitlist/waitlist.routes.js';
import { waitlistPages } from './modules/waitlist/waitlist.pages.js';
import { reportsRoutes } from './modules/reports/reports.routes.js';
import { attendanceRoutes, registrationsRoutes } from './modules/registrations/registrations.routes.js';
import { subscribersRoutes } from './modules/subscribers/subscribers.routes.js';
import { subscribersPages } from './modules/subscribers/subscribers.pages.js';
import { campaignsRoutes } from './modules/campaigns/campaigns.routes.js';
import { bouncesRoutes } from './modules/bounces/bounces.routes.js';
import { MAX_REPORT_BYTES } from './modules/bounces/bounces.service.js';
import { sitePages } from './modules/site/site.routes.js';
import { consolePages } from './modules/console/console.pages.js';
import { accountPages } from './modules/account/account.pages.js';

export interface AppDeps {
  /** An open, migrated database; the app closes it when it closes. */
  database: Database_;
  /** The service graph over that database (createServices); the app closes it when it closes. */
  services: Services;
  /** The server's logger (its mail worker logs through it too); false: no logging (tests). By default a new one from LOG_LEVEL. */
  logger?: FastifyBaseLogger | false;
  /** Where log lines go instead of stdout, for a logger made here (tests read them). */
  logStream?: NodeJS.WritableStream;
  /**
   * Runs the mail worker and the scheduled sends elsewhere (the server's mail thread, src/mail-thread.ts):
   * the app starts and stops it in their place. By default both run on this thread, over `services`.
   */
  mailRunner?: MailRunner;
}

/** How often Node looks for requests over their time: a tenth of the limit, between 100 ms and 1 s. */
function checkingInterval(requestTimeoutMs: number): number {
  return Math.min(1000, Math.max(100, Math.floor(requestTimeoutMs / 10)));
}

/** Trust the nearest `hops` proxies' X-Forwarded-For entries, and no further. */
function trustHops(hops: number) {
  return (_address: string, hop: number) => hop < hops;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { database, services } = deps;
  const { config } = services;
  const app = Fastify({
    ...(deps.logger === false
      ? { logger: false }
      : deps.logger
        ? { loggerInstance: deps.logger }
        : { logger: { ...loggerOptions(config.logLevel), ...(deps.logStream ? { stream: deps.logStream } : {}) } }),
    // A client could forge ids into the audit log; only a trusted proxy's X-Request-Id is kept.
    genReqId: (request) => (config.trustProxy !== false ? requestIdFrom(request.headers['x-request-id'], randomUUID) : randomUUID()),
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs,
    // Node answers a request that is still arriving after requestTimeout with 408, but only checks every
    // 30 s by default and gives headers their own 60 s: a client trickling bytes held a connection for a
    // minute and more. Headers share the limit, and connections are checked often enough to cut within it.
    http: { headersTimeout: config.requestTimeoutMs, connectionsCheckingInterval: checkingInterval(config.requestTimeoutMs) },
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: frameworkErrorHandler(config.publicBaseUrl),
    clientErrorHandler: clientErrorHandler(config.publicBaseUrl),
    schemaController: { compilersFactory: { buildSerializer: lazySerializerFactory } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.setValidatorCompiler(validatorCompiler());
  // JSON only: a text/plain body is an unsupported media type, not a string to validate.
  app.removeContentTypeParser('text/plain');
  await app.register(jsonBodies);

  const {
    clusters,
    organisers,
    signIn,
    members,
    huddles,
    bookings,
    waitlist,
    registrations,
    invitations,
    subscribers,
    campaigns,
    feeds,
    audit,
  } = services;

  await app.register(dbPlugin, { database });
  await app.register(contextPlugin, { config, clock: services.clock });
  await app.register(problemsPlugin, { baseUrl: config.publicBaseUrl });
  await app.register(securityPlugin, { publicPerMinute: config.publicRateLimitPerMinute, writesPerMinute: config.writeRateLimitPerMinute });
  await app.register(authPlugin, {
    resolvers: { [TOKEN_PREFIXES.organiserKey]: organisers.resolveKey, [TOKEN_PREFIXES.memberToken]: signIn.resolveToken },
    failuresPerMinute: config.authFailureLimitPerMinute,
  });
  await app.register(idempotencyPlugin);
  await app.register(writeTurnsPlugin);
  await app.register(openapiPlugin, { version });
  // The mail runner runs (and so runs the scheduled sends) only where MAIL_WORKER is on.
  const mailRunner = config.mailWorker ? deps.mailRunner : undefined;
  await app.register(mailerPlugin, {
    worker: mailRunner ?? services.mail.worker({ logger: app.log.child({ component: 'mailer' }) }),
    enabled: config.mailWorker,
    // Half the shutdown grace for sends in flight; the rest is for the HTTP side and the database.
    graceMs: config.shutdownGraceMs / 2,
    close: services.close,
  });
  await app.register(inboundMailPlugin, {
    listen: config.inboundSmtp && config.returnPathDomain ? { ...config.inboundSmtp, domain: config.returnPathDomain } : undefined,
    // What was done, without whom it was about: log lines hold no addresses.
    accept: async (raw, recipients) => {
      const { outcomes, ignored } = await services.bounces.ingest(raw, { via: 'smtp', recipients });
      return { ignored, outcomes: outcomes.map(({ kind, result }) => ({ kind, result })) };
    },
    maxBytes: MAX_REPORT_BYTES,
  });
  await app.register(metricsPlugin, {
    outboxBacklog: () => services.outbox.backlog(),
    lockWaits: () => lockWaits(database.sqlite),
    writeTurnWaits: () => writeTurnWaits(database.sqlite),
    token: config.metricsToken,
  });
  await app.register(healthPlugin);
  await app.register(assetsPlugin);
  // The scheduled sends' job runs where the mail is sent.
  const jobs = mailRunner ? services.jobs.filter((job) => job !== services.scheduler.job) : services.jobs;
  await app.register(jobsPlugin, { jobs, enabled: config.jobs, intervalMs: config.jobIntervalMs });

  await app.register(clustersRoutes, { clusters });
  await app.register(auditRoutes, { audit });
  await app.register(huddlesRoutes, { huddles, clusters });
  await app.register(feedsRoutes, { feeds, clusters, huddles, members });
  await app.register(invitationsRoutes, { invitations, huddles });
  await app.register(membersRoutes, { members, signIn, clusters });
  await app.register(membersPages, { members, signIn });
  await app.register(accountRoutes, { members, clusters, bookings, waitlist, registrations });
  await app.register(bookingsRoutes, { bookings, huddles });
  await app.register(bookingsPages, { bookings, secretKey: services.secretKey });
  await app.register(waitlistRoutes, { waitlist, members });
  await app.register(waitlistPages, { waitlist, secretKey: services.secretKey });
  await app.register(registrationsRoutes, { registrations, huddles, members });
  await app.register(attendanceRoutes, { registrations, huddles, members });
  await app.register(reportsRoutes, { reports: services.reports, clusters });
  await app.register(subscribersRoutes, { subscribers, clusters });
  await app.register(subscribersPages, { subscribers, clusters });
  await app.register(campaignsRoutes, { campaigns, clusters, organisers });
  await app.register(bouncesRoutes, { bounces: services.bounces });
  await app.register(sitePages, {
    clusters,
    huddles,
    bookings,
    registrations,
    subscribers,
    members,
    signIn,
    waitlist,
    secretKey: services.secretKey,
  });
  await app.register(accountPages, { members, signIn, clusters, bookings, waitlist, registrations, secretKey: services.secretKey });
  await app.register(consolePages, {
    consoleSignIn: services.consoleSignIn,
    campaigns,
    reports: services.reports,
    invitations,
    subscribers,
    members,
    audit,
    clusters,
    organisers,
    huddles,
    bookings,
    registrations,
    waitlist,
    secretKey: services.secretKey,
  });

  return app;
}
