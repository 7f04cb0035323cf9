// Drill 5: SIGKILL the newsletter CLI midway through a large send, then `newsletter resume`, both as
// real processes. Every subscriber gets exactly one copy, except at most the messages that were in
// flight at the kill (claimed in the outbox, not yet recorded as sent).
//   npx tsx bench/drills/newsletter-crash.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSmtpSink } from '../../test/helpers/smtp.js';
import { DrillResult, drillEnv, isMain, jsonOutput, recipients, runDrill, startCli, tempDataDir, waitUntil, type Teardown } from './lib.js';
import { CLUSTER, seedCluster, seedSubscribers, withDatabase } from './seed.js';

export interface NewsletterCrashOptions {
  subscribers: number;
  /** The send's --rate (messages per second). */
  rate: number;
  /** MAIL_CONCURRENCY for both runs: at most this many messages can be in flight at the kill. */
  mailConcurrency: number;
  /** SIGKILL once this share of the subscribers has received the newsletter. */
  killAtShare: number;
  /** Each CLI run is SIGKILLed after this long (the drill's own kill comes far earlier). */
  runTimeoutMs: number;
}

export const FULL: NewsletterCrashOptions = {
  subscribers: 10_000,
  rate: 1000,
  mailConcurrency: 4,
  killAtShare: 0.4,
  runTimeoutMs: 3 * 60_000,
};

const SUBJECT = 'Drill news';

export async function newsletterCrashDrill(t: Teardown, o: NewsletterCrashOptions): Promise<DrillResult> {
  const result = new DrillResult(`newsletter CLI SIGKILLed at ${Math.round(o.killAtShare * 100)}% of ${o.subscribers}, then resumed`);
  const sink = await startSmtpSink(t);
  const env = drillEnv(tempDataDir(t), { SMTP_URL: sink.url, MAIL_CONCURRENCY: String(o.mailConcurrency) });
  const seeded = seedCluster(env, 0);
  seedSubscribers(env, seeded.clusterId, o.subscribers);
  const body = join(env.DATA_DIR!, 'news.md');
  writeFileSync(body, '# News\n\nHello from the drill.');

  // The send, killed once the share has arrived at the SMTP server.
  const started = Date.now();
  const send = startCli(
    t,
    ['newsletter', 'send', '--cluster', CLUSTER, '--subject', SUBJECT, '--body', body, '--yes', '--rate', String(o.rate), '--json'],
    env,
    o.runTimeoutMs,
  );
  let sendExited = false;
  void send.done.then(() => (sendExited = true));
  const reached = await waitUntil(() => sink.messages.length >= o.subscribers * o.killAtShare || sendExited, o.runTimeoutMs, 10);
  const aliveAtKill = !sendExited;
  send.child.kill('SIGKILL');
  const killedAfterMs = Date.now() - started;
  const killed = await send.done;
  const deliveredAtKill = recipients(sink, 'reader').size;
  result.check(
    'the send was killed by SIGKILL midway',
    reached && aliveAtKill && killed.signal === 'SIGKILL' && deliveredAtKill > 0 && deliveredAtKill < o.subscribers,
    `exit ${killed.code ?? killed.signal} after ${killedAfterMs} ms, ${deliveredAtKill} of ${o.subscribers} ` +
      `delivered${killed.stderr.trim() ? `; stderr: ${killed.stderr.trim().slice(0, 200)}` : ''}`,
  );

  // What the database held at the kill: rows claimed and not recorded are the ones a resume sends again.
  const atKill = withDatabase(env, ({ sqlite }) => ({
    integrity: sqlite.pragma('integrity_check', { simple: true }) as string,
    campaignId: (sqlite.prepare('SELECT id FROM campaigns').get() as { id: string } | undefined)?.id,
    byStatus: Object.fromEntries(
      (
        sqlite.prepare("SELECT status, count(*) AS n FROM outbox WHERE kind = 'newsletter' GROUP BY status").all() as {
          status: string;
          n: number;
        }[]
      ).map((r) => [r.status, r.n]),
    ) as Record<string, number>,
  }));
  const inFlight = atKill.byStatus.sending ?? 0;
  result.check(
    'messages in flight at the kill are at most MAIL_CONCURRENCY',
    inFlight <= o.mailConcurrency,
    `${inFlight} claimed but not recorded, MAIL_CONCURRENCY=${o.mailConcurrency}`,
  );
  result.note({
    killedAfterMs,
    deliveredAtKill,
    sentRowsAtKill: atKill.byStatus.sent ?? 0,
    queuedRowsAtKill: atKill.byStatus.queued ?? 0,
    inFlightAtKill: inFlight,
  });
  if (!atKill.campaignId) {
    result.check('the campaign was created before the kill', false, 'no campaign in the database');
    return result;
  }

  // The resume, a real process too: it gives the dead run's claimed rows back at once (no lease to wait out).
  const resume = await startCli(t, ['newsletter', 'resume', atKill.campaignId, '--json'], env, o.runTimeoutMs).done;
  const report = jsonOutput(resume);
  result.check(
    'the resume exits 0 with every message sent',
    resume.code === 0 && report.status === 'sent' && report.sent === o.subscribers && report.pending === 0 && report.failed === 0,
    `exit ${resume.code ?? resume.signal} after ${resume.ms} ms: ${JSON.stringify(report)}`,
  );

  const copies = recipients(sink, 'reader');
  const duplicates = [...copies.values()].reduce((sum, n) => sum + n - 1, 0);
  result.check('every subscriber received the newsletter', copies.size === o.subscribers, `${copies.size} of ${o.subscribers} subscribers`);
  result.check(
    'duplicates are at most the messages in flight at the kill',
    duplicates <= inFlight,
    `${duplicates} duplicates, ${inFlight} in flight`,
  );
  const integrity = withDatabase(env, ({ sqlite }) => sqlite.pragma('integrity_check', { simple: true }) as string);
  result.check(
    'the database is intact after the kill and after the resume',
    atKill.integrity === 'ok' && integrity === 'ok',
    `integrity_check: ${atKill.integrity}, then ${integrity}`,
  );
  result.note({
    emailsReceived: sink.messages.length,
    duplicates,
    resumeMs: resume.ms,
  });
  return result;
}

if (isMain(import.meta.url)) await runDrill(6 * 60_000, (t) => newsletterCrashDrill(t, FULL));
