// Drill 1: SIGKILL the server in the middle of a booking storm, restart it on the same data folder.
// Every booking answered 201 is in the database, no slot holds two active bookings, and every
// confirmation email reaches a real SMTP server after the restart (the outbox survives the crash).
//   npx tsx bench/drills/booking-crash.ts
import { loadConfig } from '../../src/config.js';
import { closeDatabase, openDatabase } from '../../src/db/client.js';
import { manualClock } from '../../src/lib/clock.js';
import { createTransport } from '../../src/modules/outbox/outbox.transport.js';
import { createServices } from '../../src/services.js';
import { startSmtpSink, type ReceivedMessage } from '../../test/helpers/smtp.js';
import { call, formatTally, keepAliveAgent, tally, type Outcome } from './http.js';
import { DrillResult, drillEnv, isMain, runDrill, startServer, tempDataDir, waitUntil, type Exit, type Teardown } from './lib.js';
import { createHuddle, seedCluster, withDatabase } from './seed.js';

export interface BookingCrashOptions {
  members: number;
  huddles: number;
  slotsPerHuddle: number;
  concurrency: number;
  /** SIGKILL once this many bookings have been answered 201. */
  killAfter: number;
  /**
   * Messages the killed server had claimed stay leased for the worker's lease (5 minutes). 'real'
   * waits it out; 'clock' delivers them with a worker whose clock is past the lease (for the test).
   */
  leaseWait: 'real' | 'clock';
}

export const FULL: BookingCrashOptions = {
  members: 300,
  huddles: 6,
  slotsPerHuddle: 50,
  concurrency: 48,
  killAfter: 150,
  leaseWait: 'real',
};

interface Attempt {
  member: number;
  huddle: number;
  outcome?: Outcome;
}

/** The pitch UIDs (booking ids) in a message's calendar part. */
export function pitchUids(message: ReceivedMessage): string[] {
  const uids: string[] = [];
  for (const part of message.parsed.attachments.filter((a) => a.contentType === 'text/calendar')) {
    const text = part.content.toString('utf8').replace(/\r?\n[ \t]/g, '');
    for (const match of text.matchAll(/^UID:pitch-([^@\s]+)@/gm)) uids.push(match[1]!);
  }
  return uids;
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

export async function bookingCrashDrill(t: Teardown, o: BookingCrashOptions): Promise<DrillResult> {
  const result = new DrillResult('booking storm, SIGKILL, restart');
  const sink = await startSmtpSink(t);
  const env = drillEnv(tempDataDir(t), { SMTP_URL: sink.url, MAIL_WORKER: 'true' });
  const seeded = seedCluster(env, o.members);
  const first = await startServer(t, env);
  const huddles: { id: string; slotIds: string[] }[] = [];
  for (let h = 0; h < o.huddles; h++) huddles.push(await createHuddle(first.url, seeded.apiKey, `Drill huddle ${h}`, o.slotsPerHuddle));

  // The storm: every member tries every huddle, half for a random slot, half for the first free one.
  const attempts: Attempt[] = shuffle(huddles.flatMap((_, h) => seeded.members.map((_, m) => ({ member: m, huddle: h }))));
  const agent = keepAliveAgent(o.concurrency);
  t.teardown(() => agent.destroy());
  let created = 0;
  let killedAt = 0;
  let inFlightAtKill = 0;
  let next = 0;
  const running = new Set<Attempt>();
  const worker = async () => {
    while (killedAt === 0 && next < attempts.length) {
      const attempt = attempts[next++]!;
      const huddle = huddles[attempt.huddle]!;
      const slotId = attempt.member % 2 === 0 ? huddle.slotIds[Math.floor(Math.random() * huddle.slotIds.length)] : undefined;
      running.add(attempt);
      attempt.outcome = await call(first.url, agent, {
        method: 'POST',
        path: `/v1/huddles/${huddle.id}/bookings`,
        headers: { authorization: `Bearer ${seeded.members[attempt.member]!.token}` },
        body: { title: `Pitch by member ${attempt.member}`, ...(slotId ? { slotId } : {}) },
      });
      running.delete(attempt);
      if (attempt.outcome.status === 201 && ++created >= o.killAfter && killedAt === 0) {
        killedAt = Date.now();
        inFlightAtKill = running.size;
        first.child.kill('SIGKILL');
      }
    }
  };
  const stormStart = Date.now();
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const killExit = await first.stop('SIGKILL', 10_000);
  const sent = attempts.filter((a) => a.outcome);
  const acknowledged = new Map<string, Attempt>();
  for (const a of sent) if (a.outcome!.status === 201) acknowledged.set((JSON.parse(a.outcome!.body!) as { id: string }).id, a);
  result.check(
    'the server was killed mid-storm',
    killExit?.signal === 'SIGKILL' && sent.length < attempts.length,
    `after ${killedAt - stormStart} ms, ${sent.length} of ${attempts.length} requests sent`,
  );
  result.note({
    requests: sent.length,
    requestsPerSecond: Math.round((sent.length * 1000) / Math.max(1, killedAt - stormStart)),
    answers: formatTally(tally(sent.map((a) => a.outcome!))),
    requestsInFlightAtKill: inFlightAtKill,
    bookings201: acknowledged.size,
  });

  // What the database holds after the crash (opening it recovers the WAL, as the restart will).
  const atKill = withDatabase(env, ({ sqlite }) => ({
    integrity: sqlite.pragma('integrity_check', { simple: true }) as string,
    bookings: sqlite.prepare("SELECT id, slot_id AS slotId, status FROM bookings WHERE status IN ('pending', 'confirmed')").all() as {
      id: string;
      slotId: string;
      status: string;
    }[],
    doubleBooked: (
      sqlite
        .prepare(
          "SELECT count(*) AS n FROM (SELECT slot_id FROM bookings WHERE status IN ('pending', 'confirmed') GROUP BY slot_id HAVING " +
            'count(*) > 1)',
        )
        .get() as { n: number }
    ).n,
    confirmations: (sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE kind = 'pitch.confirmed'").get() as { n: number }).n,
    leased: sqlite.prepare("SELECT kind, lease_until AS leaseUntil FROM outbox WHERE status = 'sending'").all() as {
      kind: string;
      leaseUntil: number;
    }[],
    queued: (sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE status = 'queued'").get() as { n: number }).n,
  }));
  const inDatabase = new Set(atKill.bookings.map((b) => b.id));
  const missing = [...acknowledged.keys()].filter((id) => !inDatabase.has(id));
  const unacknowledged = atKill.bookings.filter((b) => !acknowledged.has(b.id)).length;
  result.check('the database is intact after the kill', atKill.integrity === 'ok', `integrity_check: ${atKill.integrity}`);
  result.check(
    'every booking answered 201 is in the database',
    missing.length === 0,
    `${acknowledged.size} answered 201, ${missing.length} missing, ${atKill.bookings.length} active rows`,
  );
  result.check(
    'committed bookings nobody heard about are at most the requests in flight',
    unacknowledged <= inFlightAtKill,
    `${unacknowledged} rows without a 201, ${inFlightAtKill} requests in flight`,
  );
  result.check('no slot holds two active bookings', atKill.doubleBooked === 0, `${atKill.doubleBooked} double-booked slots`);
  result.check(
    'every booking has its confirmation in the outbox',
    atKill.confirmations === atKill.bookings.length,
    `${atKill.confirmations} confirmations for ${atKill.bookings.length} bookings`,
  );
  result.note({
    bookingRows: atKill.bookings.length,
    rowsWithout201: unacknowledged,
    outboxQueuedAtKill: atKill.queued,
    outboxSendingAtKill: atKill.leased.length,
  });

  // Restart on the same data folder; the outbox worker delivers what the dead process left.
  const restartedAt = Date.now();
  const second = await startServer(t, env);
  const confirmed = () => {
    const seen = new Map<string, number>();
    for (const m of sink.messages)
      if (m.parsed.subject?.startsWith('Pitch confirmed')) for (const uid of pitchUids(m)) seen.set(uid, (seen.get(uid) ?? 0) + 1);
    return seen;
  };
  const unsent = () =>
    withDatabase(env, ({ sqlite }) => (sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE status <> 'sent'").get() as { n: number }).n);
  const leaseEnds = Math.max(0, ...atKill.leased.map((l) => l.leaseUntil));
  let confirmationsMs: number | undefined;
  let secondExit: Exit | undefined;
  if (o.leaseWait === 'real' || atKill.leased.length === 0) {
    // Leased rows come due when their lease runs out, then within a poll (5 s) of the worker.
    const deadline = Date.now() + Math.max(60_000, leaseEnds - Date.now() + 60_000);
    const allConfirmed = () => {
      const seen = confirmed();
      return atKill.bookings.every((b) => seen.has(b.id));
    };
    if (await waitUntil(allConfirmed, deadline - Date.now(), 250)) confirmationsMs = Date.now() - restartedAt;
    await waitUntil(() => unsent() === 0, Math.max(0, deadline - Date.now()), 500);
    secondExit = await second.stop('SIGTERM', 15_000);
  } else {
    // Everything but the leased rows is delivered by the restarted server...
    await waitUntil(() => unsent() <= atKill.leased.length, 60_000, 200);
    secondExit = await second.stop('SIGTERM', 15_000);
    // ...and the leased ones by a worker whose clock has passed the lease, as the server's would.
    const config = loadConfig(env);
    const clock = manualClock(new Date(Math.max(Date.now(), leaseEnds) + 1000));
    const transport = createTransport({ smtpUrl: sink.url, mailDir: config.mailDir, mailConcurrency: 2 });
    const database = openDatabase(config.databasePath);
    try {
      await createServices({ db: database.db, clock, config, mail: { transport } }).mail.worker({ concurrency: 2 }).drain();
    } finally {
      closeDatabase(database.sqlite);
      transport.close();
    }
  }
  const deliveredAfter = Date.now() - restartedAt;
  const final = withDatabase(
    env,
    ({ sqlite }) => sqlite.prepare('SELECT status, count(*) AS n FROM outbox GROUP BY status').all() as { status: string; n: number }[],
  );
  const byStatus = Object.fromEntries(final.map((r) => [r.status, r.n]));
  const seen = confirmed();
  const undelivered = atKill.bookings.filter((b) => !seen.has(b.id)).length;
  const duplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0);
  result.check(
    'every confirmation email was delivered after the restart',
    undelivered === 0,
    `${atKill.bookings.length - undelivered} of ` +
      `${atKill.bookings.length}${confirmationsMs === undefined ? '' : ` within ${Math.round(confirmationsMs / 1000)} s`}`,
  );
  result.check(
    'nothing in the outbox failed or is left',
    (byStatus.failed ?? 0) === 0 && (byStatus.queued ?? 0) === 0 && (byStatus.sending ?? 0) === 0,
    JSON.stringify(byStatus),
  );
  result.check(
    'duplicate confirmations are at most the messages in flight at the kill',
    duplicates <= atKill.leased.length,
    `${duplicates} duplicates, ${atKill.leased.length} in flight`,
  );
  result.note({
    emailsReceived: sink.messages.length,
    confirmationsDelivered: seen.size,
    duplicateConfirmations: duplicates,
    secondsToOutboxEmpty: Math.round(deliveredAfter / 1000),
    restartedServerExit: String(secondExit?.code),
  });
  return result;
}

if (isMain(import.meta.url)) await runDrill(9 * 60_000, (t) => bookingCrashDrill(t, FULL));
