// The outbox, the one road every email takes: rows written in the caller's transaction, leased out to the mail worker.
import { and, asc, eq, exists, getTableColumns, inArray, sql, type SQLWrapper } from 'drizzle-orm';
import { chunks } from '../../lib/chunks.js';
import type { DkimKey } from '../../lib/dkim.js';
import { rawPlaceholder, immediate, type Db, type DbOrTx } from '../../db/client.js';
import { byLimit } from '../../db/limits.js';
import { fastRows } from '../../db/rows.js';
import { outbox, outboxBodies, type OutboxRow, type OutboxStatus } from '../../db/schema.js';
import type { Clock } from '../../lib/clock.js';
import { hook } from '../../lib/hooks.js';
import { newId } from '../../lib/ids.js';
import { thisProcess } from '../../lib/processes.js';
import { checkAddress, checkMessage } from './outbox.checks.js';
import type { ComposedBody, ComposedLater, OutgoingMessage } from './outbox.types.js';

export type { ComposedBody, ComposedLater, OutboxRow, OutgoingMessage };

/** A row as claimed: a message enqueued with `enqueueComposed` has no body until it is composed. */
export type DueRow = Omit<OutboxRow, 'text' | 'html' | 'headers'> & {
  text: string | null;
  html: string | null;
  headers: Record<string, string> | null;
};

export interface OutboxOptions {
  db: Db;
  clock: Clock;
  /** Default From of every message (config.mailFrom). */
  from: string;
  /** Right-hand side of every Message-ID (Site.messageIdDomain). */
  messageIdDomain: string;
}

/** A query over a caller's own table that selects outbox ids (e.g. a campaign's deliveries); its placeholders are given at each call. */
export type OutboxIds = SQLWrapper;

/** How the mail server refused a message: the SMTP command it refused (RCPT TO: the recipient) and its answer. */
export interface Refusal {
  command: string | null;
  response: string;
}

/** What became of a claimed message, recorded by `settle`. */
export type Outcome =
  | { status: 'sent'; row: DueRow; response: string }
  | { status: 'retry'; row: DueRow; error: string; next: Date }
  | { status: 'failed'; row: DueRow; error: string }
  | { status: 'refused'; row: DueRow; error: string; refusal: Refusal }
  | { status: 'withheld'; row: DueRow; reason: string };

/** What one `settle` did: the rows now leased to the caller, and what it could not do. */
export interface Settled {
  claimed: OutboxRow[];
  /** Claimed, then withheld by a `sending` handler (recorded). */
  withheld: { row: DueRow; reason: string }[];
  /** Claimed, but a `sending` or `compose` handler threw (or nothing composed it): the caller records a retry. */
  unchecked: { row: DueRow; err: unknown }[];
  /** Outcomes that could not be recorded (their rows stay claimed until their lease runs out). */
  failures: { outcome: Outcome; err: unknown }[];
}

/** Who a sent message went to, and what it was. */
export type MessageRef = Pick<OutboxRow, 'id' | 'clusterId' | 'kind' | 'toAddress'>;

export type Backlog = Record<Exclude<OutboxStatus, 'sent' | 'withheld'>, number>;
export type Outbox = ReturnType<typeof createOutbox>;

/** The most rows one claim leases (a worker claims its free slots, at most MAIL_CONCURRENCY's 64). */
const MOST_CLAIMED = 64;

export function createOutbox({ db, clock, from, messageIdDomain: domain }: OutboxOptions) {
  checkAddress('from', from);
  const listeners = new Set<() => void>();
  // The From addresses are few (MAIL_FROM and each cluster's sender) and parsing one costs microseconds
  // on every message: each is checked once. Bounded all the same.
  const froms = new Map<string, string>();
  function checkedFrom(value: string): string {
    let checked = froms.get(value);
    if (checked === undefined) {
      checked = checkAddress('from', value);
      if (froms.size >= 1000) froms.clear();
      froms.set(value, checked);
    }
    return checked;
  }
  let wakeupScheduled = false;
  const hooks = {
    /** A message the mail server refused for good, inside the transaction that records it as failed. */
    refused: hook<[tx: DbOrTx, row: DueRow, refusal: Refusal]>(),
    /**
     * A message just claimed, about to be handed to the transport (inside the claiming transaction): a
     * handler returns a reason to withhold it (e.g. its recipient has just unsubscribed), or null.
     */
    sending: hook<[row: DueRow], string | null>(),
    /**
     * The body of a message enqueued with `enqueueComposed` (no stored body), made once its `sending` check
     * has passed and the claim has committed, just before it is sent: the first handler's answer that is not null.
     */
    compose: hook<[row: DueRow], ComposedBody | null>(),
    /**
     * The From and Reply-To of a cluster's messages, when it has its own sender (the first handler's
     * answer that is not null); a message without a From of its own then takes them.
     */
    sender: hook<[tx: DbOrTx, clusterId: string], { from: string; replyTo: string | null } | null>(),
    /** The DKIM key to sign a message with as it leaves (the first handler's answer that is not null). */
    signing: hook<[row: OutboxRow], DkimKey | null>(),
    /** A message withheld for good, inside the transaction that records it. */
    withheld: hook<[tx: DbOrTx, row: DueRow, reason: string]>(),
  };

  // The due rows with their bodies (none for a message composed as it leaves), oldest first. Repeats the
  // partial index's own term (status IN ...) so SQLite walks outbox_due in order and stops at the limit;
  // ties broken by id (time-ordered). One statement per limit (src/db/limits.ts): a bound LIMIT had SQLite
  // compile the statement again on every claim.
  const { outboxId: _bodyKey, ...bodyColumns } = getTableColumns(outboxBodies);
  const dueStatement = byLimit(
    (limit) =>
      fastRows(
        db
          .select({ ...getTableColumns(outbox), ...bodyColumns })
          .from(outbox)
          .leftJoin(outboxBodies, eq(outboxBodies.outboxId, outbox.id))
          .where(
            sql`${outbox.status} IN ('queued', 'sending') AND ${outbox.nextAttemptAt} <= ${sql.placeholder('now')}
            AND (${outbox.status} = 'queued' OR ${outbox.leaseUntil} <= ${sql.placeholder('now')})`,
          )
          .orderBy(asc(outbox.nextAttemptAt), asc(outbox.id))
          .limit(limit)
          .prepare(),
      ),
    MOST_CLAIMED,
  );
  // One row at a time by id: an UPDATE ... WHERE id IN (the due select) RETURNING * cost two to three times
  // as much per claim (bench/FINDINGS.md, session 11).
  const leaseStatement = db
    .update(outbox)
    .set({ status: 'sending', leaseUntil: rawPlaceholder('leaseUntil'), claimedBy: thisProcess, attempts: sql`${outbox.attempts} + 1` })
    .where(eq(outbox.id, sql.placeholder('id')))
    .prepare();
  // Every state change that sends mail calls enqueue, so it is one prepared statement.
  const insertStatement = db
    .insert(outbox)
    .values({
      id: rawPlaceholder('id'),
      messageId: rawPlaceholder('messageId'),
      clusterId: rawPlaceholder('clusterId'),
      kind: rawPlaceholder('kind'),
      toAddress: rawPlaceholder('to'),
      fromAddress: rawPlaceholder('from'),
      replyTo: rawPlaceholder('replyTo'),
      subject: rawPlaceholder('subject'),
      calendarMethod: rawPlaceholder('calendarMethod'),
      status: 'queued',
      attempts: 0,
      nextAttemptAt: rawPlaceholder('now'),
      createdAt: rawPlaceholder('now'),
    })
    .prepare();
  const insertBodyStatement = db
    .insert(outboxBodies)
    .values({
      outboxId: rawPlaceholder('id'),
      text: rawPlaceholder('text'),
      html: rawPlaceholder('html'),
      headers: rawPlaceholder('headers'),
      calendar: rawPlaceholder('calendar'),
      attachments: rawPlaceholder('attachments'),
    })
    .prepare();
  const sentStatement = db
    .update(outbox)
    .set({ status: 'sent', sentAt: rawPlaceholder('now'), smtpResponse: rawPlaceholder('response'), leaseUntil: null, lastError: null })
    .where(
      sql`${outbox.id} = ${sql.placeholder('id')} AND ${outbox.status} = 'sending' AND ${outbox.attempts} = ${sql.placeholder('attempts')}`,
    )
    .prepare();
  // Sent, retry and failure only touch the row as this worker claimed it (status sending, and
  // the attempt count its claim set): a slower worker whose lease ran out and was re-claimed by
  // another must not turn that row back into a queued one.
  const retryStatement = db
    .update(outbox)
    .set({ status: 'queued', nextAttemptAt: rawPlaceholder('next'), leaseUntil: null, lastError: rawPlaceholder('error') })
    .where(
      sql`${outbox.id} = ${sql.placeholder('id')} AND ${outbox.status} = 'sending' AND ${outbox.attempts} = ${sql.placeholder('attempts')}`,
    )
    .prepare();
  const failedStatement = db
    .update(outbox)
    .set({ status: 'failed', leaseUntil: null, lastError: rawPlaceholder('error') })
    .where(
      sql`${outbox.id} = ${sql.placeholder('id')} AND ${outbox.status} = 'sending' AND ${outbox.attempts} = ${sql.placeholder('attempts')}`,
    )
    .prepare();
  const withheldStatement = db
    .update(outbox)
    .set({ status: 'withheld', leaseUntil: null, lastError: rawPlaceholder('reason') })
    .where(
      sql`${outbox.id} = ${sql.placeholder('id')} AND ${outbox.status} = 'sending' AND ${outbox.attempts} = ${sql.placeholder('attempts')}`,
    )
    .prepare();
  // The claim counted an attempt that never happened; give it back.
  const releaseStatement = db
    .update(outbox)
    .set({ status: 'queued', leaseUntil: null, attempts: sql`max(${outbox.attempts} - 1, 0)` })
    .where(sql`${outbox.id} = ${sql.placeholder('id')} AND ${outbox.status} = 'sending'`)
    .prepare();
  // Each count matches one partial index's condition, so neither scans the sent rows.
  const pendingStatement = db
    .select({ status: outbox.status, count: sql<number>`count(*)` })
    .from(outbox)
    .where(sql`${outbox.status} IN ('queued', 'sending')`)
    .groupBy(outbox.status)
    .prepare();
  const failedCountStatement = db
    .select({ count: sql<number>`count(*)` })
    .from(outbox)
    .where(sql`${outbox.status} = 'failed'`)
    .prepare();

  /** The due rows, leased to this process (inside the caller's transaction), oldest first, each with its body. */
  function claimDue(limit: number, leaseMs: number): DueRow[] {
    const now = clock.now().getTime();
    const leaseUntil = now + leaseMs;
    const rows = dueStatement(Math.min(limit, MOST_CLAIMED)).all({ now });
    for (const row of rows) {
      leaseStatement.run({ id: row.id, leaseUntil });
      Object.assign(row, { status: 'sending', leaseUntil: new Date(leaseUntil), claimedBy: thisProcess, attempts: row.attempts + 1 });
    }
    return rows;
  }

  /**
   * Records one outcome, touching the row only as its worker claimed it. A plain status change is one
   * statement; one whose handlers write too (refused, withheld) runs in a transaction of its own, nested
   * as a savepoint when the caller has one open, so a handler's failure undoes only that outcome.
   */
  function record(outcome: Outcome): void {
    const { id, attempts } = outcome.row;
    switch (outcome.status) {
      case 'sent':
        sentStatement.run({ id, attempts, now: clock.now().getTime(), response: outcome.response });
        return;
      case 'retry':
        retryStatement.run({ id, attempts, error: outcome.error, next: outcome.next.getTime() });
        return;
      case 'failed':
        failedStatement.run({ id, attempts, error: outcome.error });
        return;
      case 'refused':
        immediate(db, (tx) => {
          if (failedStatement.run({ id, attempts, error: outcome.error }).changes > 0) hooks.refused.emit(tx, outcome.row, outcome.refusal);
        });
        return;
      case 'withheld':
        immediate(db, (tx) => {
          if (withheldStatement.run({ id, attempts, reason: outcome.reason }).changes > 0)
            hooks.withheld.emit(tx, outcome.row, outcome.reason);
        });
        return;
    }
  }

  /**
   * The row with its body: its own, or (enqueued with `enqueueComposed`) the one a `compose` handler makes
   * now, put on the row; throws when none is made or it fails the outbox's checks.
   */
  function hasBody(row: DueRow): row is OutboxRow {
    return row.text !== null && row.html !== null && row.headers !== null;
  }

  function withBody(row: DueRow): OutboxRow {
    if (hasBody(row)) return row;
    const body = hooks.compose.emit(row).find((found) => found !== null);
    if (!body) throw new Error(`outbox: nothing composed the body of ${row.kind} message ${row.id}`);
    checkMessage({ ...body, kind: row.kind, to: row.toAddress });
    return { ...row, subject: body.subject, text: body.text, html: body.html, headers: body.headers ?? {} };
  }

  /** The outbox row of a message (its body is the caller's), checked; schedules the worker's wake-up. */
  function insertRow(tx: DbOrTx, message: ComposedLater, calendarMethod: string | null): string {
    const to = checkAddress('to', message.to);
    const own = message.from === undefined && message.clusterId ? hooks.sender.emit(tx, message.clusterId).find(Boolean) : undefined;
    const sender = checkedFrom(message.from ?? own?.from ?? from);
    const reply = own?.replyTo ?? message.replyTo;
    const replyTo = reply === undefined || reply === null ? null : checkAddress('replyTo', reply);
    const id = newId();
    insertStatement.run({
      id,
      messageId: `<${id}@${domain}>`,
      clusterId: message.clusterId ?? null,
      kind: message.kind,
      to,
      from: sender,
      replyTo,
      subject: message.subject,
      calendarMethod,
      now: clock.now().getTime(),
    });
    scheduleWakeup();
    return id;
  }

  function scheduleWakeup(): void {
    if (wakeupScheduled || listeners.size === 0) return;
    wakeupScheduled = true;
    // better-sqlite3 transactions are synchronous, so by the time this runs the caller's
    // transaction has committed (or rolled back, and the worker simply finds nothing).
    setImmediate(() => {
      wakeupScheduled = false;
      for (const listener of listeners) {
        try {
          listener();
        } catch {
          // A listener's failure is its own business; the row is safe in the table.
        }
      }
    });
  }

  return {
    hooks,

    /** Writes one message inside the caller's transaction; returns the row id. Never sends. */
    enqueue(tx: DbOrTx, message: OutgoingMessage): string {
      checkMessage(message);
      const id = insertRow(tx, message, message.calendar?.method ?? null);
      insertBodyStatement.run({
        id,
        text: message.text,
        html: message.html,
        headers: JSON.stringify(message.headers ?? {}),
        calendar: message.calendar?.content ?? null,
        attachments: message.attachments ? JSON.stringify(message.attachments) : null,
      });
      return id;
    },

    /**
     * Writes one message without a body, inside the caller's transaction: a `compose` handler makes its
     * body as it leaves (a newsletter copy, which would otherwise be stored ten thousand times over). The
     * subject is the one logged; the handler's subject is the one sent. Returns the row id.
     */
    enqueueComposed(tx: DbOrTx, message: ComposedLater): string {
      checkMessage({ ...message, text: '', html: '' });
      return insertRow(tx, message, null);
    },

    /**
     * Leases up to `limit` due rows (queued, or sending with an expired lease) to the caller, without the
     * `sending` check: what a worker that dies after claiming leaves behind (tests, drills). Workers use `settle`.
     * At most MOST_CLAIMED (64) at a time.
     */
    claim(limit: number, leaseMs: number): DueRow[] {
      if (limit <= 0) return [];
      return immediate(db, () => claimDue(limit, leaseMs));
    },

    /**
     * The worker's one write: records what became of the messages it sent (`outcomes`, each as the worker
     * claimed it) and leases up to `limit` due rows, in one IMMEDIATE transaction. Each claimed row is
     * checked there, just before it leaves (`sending` handlers): one that must not leave is recorded as
     * withheld at once; one whose check failed is returned in `unchecked` (a temporary failure).
     * An outcome whose record fails (a handler threw) is rolled back alone and returned in `failures`; its
     * row stays claimed, so one fewer row is claimed for each.
     * If the transaction itself fails, nothing is recorded and nothing claimed: it throws.
     */
    settle(outcomes: readonly Outcome[], limit: number, leaseMs: number): Settled {
      const settled: Settled = { claimed: [], withheld: [], unchecked: [], failures: [] };
      if (outcomes.length === 0 && limit <= 0) return settled;
      // Checked in the claiming transaction; bodies composed after it commits (rendering a copy need not hold the write lock).
      const checked: DueRow[] = [];
      immediate(db, () => {
        for (const outcome of outcomes) {
          try {
            record(outcome);
          } catch (err) {
            // An error that ended the transaction itself (a full disk, I/O) fails the whole settle: nothing is claimed.
            if (!db.$client.inTransaction) throw err;
            settled.failures.push({ outcome, err });
          }
        }
        // A row whose outcome could not be recorded is still claimed: it keeps the slot its sender had freed.
        const room = limit - settled.failures.length;
        for (const row of room > 0 ? claimDue(room, leaseMs) : []) {
          let reason: string | null;
          try {
            reason = hooks.sending.emit(row).find((found) => found !== null) ?? null;
          } catch (err) {
            settled.unchecked.push({ row, err });
            continue;
          }
          if (reason === null) checked.push(row);
          else {
            const outcome: Outcome = { status: 'withheld', row, reason };
            try {
              record(outcome);
              settled.withheld.push({ row, reason });
            } catch (err) {
              if (!db.$client.inTransaction) throw err;
              settled.failures.push({ outcome, err });
            }
          }
        }
      });
      for (const row of checked) {
        try {
          settled.claimed.push(withBody(row));
        } catch (err) {
          settled.unchecked.push({ row, err });
        }
      }
      return settled;
    },

    /** The key a message is signed with as it leaves, or null to send it unsigned. */
    signingKeyFor(row: OutboxRow): DkimKey | null {
      return hooks.signing.emit(row).find((key) => key !== null) ?? null;
    },

    /**
     * Gives back every row this process's workers had claimed: its mail thread died, and the server's
     * main thread claims none, so they are no one's. They are sent again (at most those that were in flight twice).
     */
    releaseOwnClaims(): number {
      return immediate(db, (tx) => {
        const rows = tx
          .select({ id: outbox.id })
          .from(outbox)
          .where(and(eq(outbox.status, 'sending'), eq(outbox.claimedBy, thisProcess)))
          .all();
        for (const { id } of rows) releaseStatement.run({ id });
        return rows.length;
      });
    },

    /** Gives claimed-but-unsent rows back at once instead of waiting for their lease to expire. */
    release(ids: readonly string[]): void {
      if (ids.length === 0) return;
      immediate(db, () => {
        for (const id of ids) releaseStatement.run({ id });
      });
    },

    /** Messages waiting (queued), being sent (sending) and given up (failed). */
    backlog(): Backlog {
      const counts: Backlog = { queued: 0, sending: 0, failed: failedCountStatement.get()?.count ?? 0 };
      for (const row of pendingStatement.all()) counts[row.status as 'queued' | 'sending'] = row.count;
      return counts;
    },

    /**
     * Forgets the messages to an address that are not on their way yet (erasure): queued, failed or
     * sent copies go, so the address is not kept in the outbox; one being sent right now stays.
     */
    forgetRecipient(tx: DbOrTx, clusterId: string, address: string): void {
      tx.delete(outbox)
        .where(and(eq(outbox.clusterId, clusterId), eq(outbox.toAddress, address), sql`${outbox.status} <> 'sending'`))
        .run();
    },

    /**
     * Counts the unfinished messages among those `belongs` picks: a condition over the caller's own table,
     * given the outbox id column, whose placeholders are given at each call. Each count walks one partial
     * index (outbox_due, outbox_failed) and asks `belongs` of each row in it, so it costs what the outbox
     * holds unsent, not what the caller has ever sent (a campaign's 10,000 ids as an IN list: 14 ms; this: 1).
     */
    unfinishedCounter(belongs: (outboxId: typeof outbox.id) => SQLWrapper) {
      const waiting = db
        .select({ status: outbox.status, n: sql<number>`count(*)` })
        .from(outbox)
        .where(and(sql`${outbox.status} IN ('queued', 'sending')`, exists(belongs(outbox.id))))
        .groupBy(outbox.status)
        .prepare();
      const failed = db
        .select({ n: sql<number>`count(*)` })
        .from(outbox)
        .where(and(sql`${outbox.status} = 'failed'`, exists(belongs(outbox.id))))
        .prepare();
      return {
        /** Queued or being sent. */
        waiting(params: Record<string, unknown> = {}): number {
          return waiting.all(params).reduce((sum, row) => sum + row.n, 0);
        },
        /** Given up on (refused, or out of attempts). */
        failed(params: Record<string, unknown> = {}): number {
          return failed.get(params)!.n;
        },
      };
    },

    /** The messages `ids` selects that wait in the queue (none of them claimed by a worker yet). */
    queuedAmong(tx: DbOrTx, ids: OutboxIds): string[] {
      return tx
        .select({ id: outbox.id })
        .from(outbox)
        .where(and(inArray(outbox.id, ids), eq(outbox.status, 'queued')))
        .all()
        .map((row) => row.id);
    },

    /**
     * Takes queued messages out of the outbox before any worker claims them (a paused newsletter), inside
     * the caller's transaction. A message already claimed is on its way and stays.
     */
    withdraw(tx: DbOrTx, ids: readonly string[]): void {
      for (const piece of chunks(ids))
        tx.delete(outbox)
          .where(and(inArray(outbox.id, piece), eq(outbox.status, 'queued')))
          .run();
    },

    /** The messages `ids` selects that are being sent now, with the process that claimed each. */
    claimsAmong(ids: OutboxIds): { id: string; claimedBy: string | null }[] {
      return db
        .select({ id: outbox.id, claimedBy: outbox.claimedBy })
        .from(outbox)
        .where(and(inArray(outbox.id, ids), eq(outbox.status, 'sending')))
        .all();
    },

    /** How many messages were sent since `since` (all kinds): what counts against a provider's daily limit. */
    sentSince(since: Date): number {
      return db
        .select({ n: sql<number>`count(*)` })
        .from(outbox)
        .where(sql`${outbox.status} = 'sent' AND ${outbox.sentAt} >= ${since.getTime()}`)
        .get()!.n;
    },

    /** Status and sending time of these messages (a person's export). */
    statusOf(ids: string[]): Map<string, Pick<OutboxRow, 'status' | 'sentAt'>> {
      if (ids.length === 0) return new Map();
      const rows = db
        .select({ id: outbox.id, status: outbox.status, sentAt: outbox.sentAt })
        .from(outbox)
        .where(inArray(outbox.id, ids))
        .all();
      return new Map(rows.map(({ id, ...rest }) => [id, rest]));
    },

    /**
     * The sent message a report that came back is about, by its id (from the return path) or its
     * Message-ID (quoted in the report, with or without angle brackets); undefined when it is not ours.
     */
    find(ref: { id?: string; messageId?: string }): MessageRef | undefined {
      const columns = { id: outbox.id, clusterId: outbox.clusterId, kind: outbox.kind, toAddress: outbox.toAddress };
      if (ref.id) return db.select(columns).from(outbox).where(eq(outbox.id, ref.id)).get();
      if (!ref.messageId) return undefined;
      const bare = ref.messageId.trim().replace(/^<|>$/g, '');
      return db
        .select(columns)
        .from(outbox)
        .where(eq(outbox.messageId, `<${bare}>`))
        .get();
    },

    /** Called (once per burst) after enqueue, outside the caller's transaction. Returns an unsubscribe. */
    onEnqueued(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
