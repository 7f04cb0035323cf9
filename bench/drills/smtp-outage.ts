// Drill 2: the SMTP server goes away for 30 s in the middle of sending, then comes back on the same
// port. Both senders are exercised at once: the newsletter CLI (`convene newsletter send`, its own
// process) and the server's outbox worker (welcome emails for members created during the outage).
// Everything is delivered; nothing is marked failed for good, and no address is suppressed.
//   npx tsx bench/drills/smtp-outage.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { closeDatabase, openDatabase } from '../../src/db/client.js';
import { systemClock } from '../../src/lib/clock.js';
import { outboxWaiting, sendCampaign } from '../../src/modules/campaigns/campaigns.sender.js';
import type { Backoff } from '../../src/modules/outbox/outbox.worker.js';
import { createServices } from '../../src/services.js';
import { startSmtpSink } from '../../test/helpers/smtp.js';
import { call, keepAliveAgent } from './http.js';
import {
  DrillResult,
  drillEnv,
  isMain,
  jsonOutput,
  recipients,
  runDrill,
  sleep,
  startCli,
  startServer,
  tempDataDir,
  waitUntil,
  type Teardown,
} from './lib.js';
import { CLUSTER, seedCluster, seedSubscribers, withDatabase } from './seed.js';

export interface OutageOptions {
  subscribers: number;
  /** Newsletter messages per second. */
  rate: number;
  outageMs: number;
  /**
   * 'processes': the real CLI and server processes with their real retry schedule (the drill).
   * 'in-process': the CLI's sender and mail worker in this process with a short backoff (the test).
   */
  mode: 'processes' | 'in-process';
  /** Members created over HTTP, one every `memberEveryMs`, whose welcome emails the server sends ('processes' only). */
  members: number;
  memberEveryMs: number;
  /** Retry schedule for 'in-process'. */
  backoff?: Backoff;
}

export const FULL: OutageOptions = { subscribers: 400, rate: 20, outageMs: 30_000, mode: 'processes', members: 60, memberEveryMs: 700 };

const SUBJECT = 'Drill news';

/** What the send reported (the CLI's --json output), its exit code, and the temporary failures it logged. */
type SendReport = Record<string, unknown> & { code: number | null; temporaryFailures: number };
const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** Outbox rows by status, failed rows' errors, and suppressed addresses, in one data folder. */
function outboxState(env: Record<string, string>) {
  return withDatabase(env, ({ sqlite }) => ({
    byStatus: Object.fromEntries(
      (sqlite.prepare('SELECT status, count(*) AS n FROM outbox GROUP BY status').all() as { status: string; n: number }[]).map((r) => [
        r.status,
        r.n,
      ]),
    ) as Record<string, number>,
    retried: (sqlite.prepare('SELECT count(*) AS n FROM outbox WHERE attempts > 1').get() as { n: number }).n,
    maxAttempts: (sqlite.prepare('SELECT max(attempts) AS n FROM outbox').get() as { n: number | null }).n ?? 0,
    errors: (sqlite.prepare("SELECT DISTINCT last_error AS e FROM outbox WHERE status = 'failed' LIMIT 3").all() as { e: string }[]).map(
      (r) => r.e,
    ),
    suppressed: (sqlite.prepare('SELECT count(*) AS n FROM suppressions').get() as { n: number }).n,
  }));
}

/** The newsletter send as `convene newsletter send` runs it, in this process, with a given retry schedule. */
async function sendInProcess(env: Record<string, string>, rate: number, backoff: Backoff | undefined) {
  const config = loadConfig(env);
  const database = openDatabase(config.databasePath);
  let temporaryFailures = 0;
  const logger = { ...silent, warn: (_obj: object, msg?: string) => void (msg?.includes('will retry') && temporaryFailures++) };
  const services = createServices({ db: database.db, clock: systemClock, config, mail: { logger } });
  try {
    const cluster = services.clusters.get(CLUSTER);
    const actor = { type: 'cli' as const, label: 'drill' };
    const draft = services.campaigns.createDraft(cluster, { subject: SUBJECT, body: '# News\n\nHello from the drill.', rate }, actor);
    services.campaigns.start(draft.id, actor);
    const campaign = services.campaigns.get(draft.id);
    const worker = services.mail.worker({ pollIntervalMs: 100, ...(backoff ? { backoff } : {}) });
    const sent = await sendCampaign({
      campaigns: services.campaigns,
      campaign,
      rendered: services.campaigns.render(campaign, cluster),
      worker,
      rate,
      outboxBacklog: () => outboxWaiting(services.outbox),
      concurrency: config.mailConcurrency,
    });
    return { code: 0, status: sent.stopped || sent.stats.pending > 0 ? 'paused' : 'sent', ...sent.stats, temporaryFailures };
  } finally {
    await services.close();
    closeDatabase(database.sqlite);
  }
}

export async function smtpOutageDrill(t: Teardown, o: OutageOptions): Promise<DrillResult> {
  const result = new DrillResult(`SMTP server away for ${o.outageMs / 1000} s during sends (${o.mode})`);
  const sink = await startSmtpSink(t);
  const newsletterEnv = drillEnv(tempDataDir(t), { SMTP_URL: sink.url });
  const seeded = seedCluster(newsletterEnv, 0);
  seedSubscribers(newsletterEnv, seeded.clusterId, o.subscribers);

  // The server, on its own data folder, with members created over HTTP all through the drill.
  const serverEnv = drillEnv(tempDataDir(t), { SMTP_URL: sink.url, MAIL_WORKER: 'true' });
  const organiser = o.mode === 'processes' ? seedCluster(serverEnv, 0) : undefined;
  const server = o.mode === 'processes' ? await startServer(t, serverEnv) : undefined;
  let membersCreated = 0;
  const creating = (async () => {
    if (!server || !organiser) return;
    const agent = keepAliveAgent(1);
    for (let i = 0; i < o.members; i++) {
      const answer = await call(server.url, agent, {
        method: 'POST',
        path: `/v1/clusters/${CLUSTER}/members`,
        headers: { authorization: `Bearer ${organiser.apiKey}` },
        body: { email: `member${i}@example.org`, name: `Member ${i}`, organisation: `Organisation ${i}`, organisationType: 'company' },
      });
      if (answer.status === 201) membersCreated++;
      await sleep(o.memberEveryMs);
    }
    agent.destroy();
  })();

  // The newsletter send: the real CLI process, or its sender in this process.
  const body = join(newsletterEnv.DATA_DIR!, 'news.md');
  writeFileSync(body, '# News\n\nHello from the drill.');
  let cliDone = false;
  const sending = (async (): Promise<SendReport> => {
    if (o.mode === 'in-process') return sendInProcess(newsletterEnv, o.rate, o.backoff);
    const cli = startCli(
      t,
      ['newsletter', 'send', '--cluster', CLUSTER, '--subject', SUBJECT, '--body', body, '--yes', '--rate', String(o.rate), '--json'],
      newsletterEnv,
      8 * 60_000,
    );
    const run = await cli.done;
    return { ...jsonOutput(run), code: run.code, temporaryFailures: (run.stderr.match(/failed temporarily/g) ?? []).length };
  })().finally(() => (cliDone = true));

  // The outage: once a fifth of the newsletter is out, the SMTP server stops; it listens again on the same port.
  const started = await waitUntil(() => recipients(sink, 'reader').size >= o.subscribers / 5 || cliDone, 120_000, 20);
  const before = { newsletter: recipients(sink, 'reader').size, welcome: recipients(sink, 'member').size };
  const port = sink.port;
  await sink.stop();
  const downAt = Date.now();
  const duringStart = sink.messages.length;
  await sleep(o.outageMs);
  const duringOutage = sink.messages.length - duringStart;
  await sink.restart();
  const upAt = Date.now();
  result.check(
    'the outage hit in the middle of the send',
    started && !cliDone && before.newsletter < o.subscribers,
    `${before.newsletter} of ${o.subscribers} newsletters and ${before.welcome} welcome emails delivered before it`,
  );
  result.check('the SMTP server came back on the same port', sink.port === port, `port ${port} -> ${sink.port}`);
  result.note({ outageMs: upAt - downAt, deliveredDuringOutage: duringOutage });

  const sent = await sending;
  const lastNewsletterAt = Date.now();
  const newsletter = recipients(sink, 'reader');
  const newsletterState = outboxState(newsletterEnv);
  result.check(
    'the newsletter send exits 0 with every message sent',
    sent.code === 0 && sent.status === 'sent' && sent.sent === o.subscribers && sent.failed === 0,
    JSON.stringify(sent),
  );
  result.check(
    'every subscriber got the newsletter',
    newsletter.size === o.subscribers,
    `${newsletter.size} of ${o.subscribers} subscribers`,
  );
  result.check(
    'the sender saw the outage and retried',
    Number(sent.temporaryFailures) > 0 && newsletterState.retried > 0,
    `${String(sent.temporaryFailures)} temporary failures logged, ${newsletterState.retried} messages needed more than one attempt ` +
      `(at most ${newsletterState.maxAttempts})`,
  );
  result.check(
    'no newsletter failed for good, no address suppressed',
    (newsletterState.byStatus.failed ?? 0) === 0 && newsletterState.suppressed === 0,
    `${JSON.stringify(newsletterState.byStatus)}, ${newsletterState.suppressed} suppressed ${newsletterState.errors.join(' | ')}`,
  );
  result.note({
    newslettersDelivered: newsletter.size,
    newsletterDuplicates: [...newsletter.values()].reduce((s, n) => s + n - 1, 0),
    secondsFromRecoveryToLastNewsletter: Math.round((lastNewsletterAt - upAt) / 1000),
  });

  if (server) {
    await creating;
    const drained = await waitUntil(
      () => {
        const state = outboxState(serverEnv);
        return (state.byStatus.queued ?? 0) + (state.byStatus.sending ?? 0) === 0;
      },
      5 * 60_000,
      500,
    );
    const welcomeDoneAt = Date.now();
    const serverState = outboxState(serverEnv);
    const welcomed = recipients(sink, 'member');
    const retriesLogged = server.lines.filter((line) => line.includes('will retry')).length;
    result.check(
      'every welcome email the server queued was delivered',
      drained && welcomed.size === membersCreated && membersCreated === o.members,
      `${welcomed.size} of ${membersCreated} members (${o.members} asked for)`,
    );
    result.check(
      "the server's worker saw the outage and retried",
      retriesLogged > 0 && serverState.retried > 0,
      `${retriesLogged} retries logged, ${serverState.retried} messages needed more than one attempt (at most ${serverState.maxAttempts})`,
    );
    result.check(
      'no email of the server failed for good',
      (serverState.byStatus.failed ?? 0) === 0 && serverState.suppressed === 0,
      `${JSON.stringify(serverState.byStatus)} ${serverState.errors.join(' | ')}`,
    );
    const exit = await server.stop('SIGTERM', 15_000);
    result.check('the server still stops cleanly', exit?.code === 0, JSON.stringify(exit));
    result.note({ welcomeEmailsDelivered: welcomed.size, secondsFromRecoveryToLastWelcome: Math.round((welcomeDoneAt - upAt) / 1000) });
  }
  return result;
}

if (isMain(import.meta.url)) await runDrill(9 * 60_000, (t) => smtpOutageDrill(t, FULL));
