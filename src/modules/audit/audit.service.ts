// The audit log: an append-only record of every organiser and CLI change, written in the change's own transaction.
import { and, desc, eq, gte, like, lt, sql, type SQL } from 'drizzle-orm';
import { rawPlaceholder, type Db, type DbOrTx } from '../../db/client.js';
import { auditEvents } from '../../db/schema.js';
import { newId } from '../../lib/ids.js';
import type { Clock } from '../../lib/clock.js';
import { decodeCursor, pageOf } from '../../lib/pagination.js';

export interface Actor {
  type: 'organiser' | 'cli' | 'member' | 'system';
  id?: string | null;
  label?: string | null;
  requestId?: string | null;
}

/** What a list of the audit log may be narrowed to. */
export interface AuditFilter {
  actor?: string;
  action?: string;
  from?: Date;
  to?: Date;
}

export interface AuditEntry {
  clusterId: string | null;
  action: string;
  targetType: string;
  targetId?: string | null;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

export type AuditService = ReturnType<typeof createAuditService>;

export function createAuditService({ db, clock }: { db: Db; clock: Clock }) {
  // Nearly every write appends one: prepared once, on the connection every transaction uses, so it
  // runs inside the caller's (the JSON columns are bound as the text Drizzle would write).
  const insertStatement = db
    .insert(auditEvents)
    .values({
      id: rawPlaceholder('id'),
      clusterId: rawPlaceholder('clusterId'),
      actorType: rawPlaceholder('actorType'),
      actorId: rawPlaceholder('actorId'),
      actorLabel: rawPlaceholder('actorLabel'),
      action: rawPlaceholder('action'),
      targetType: rawPlaceholder('targetType'),
      targetId: rawPlaceholder('targetId'),
      before: rawPlaceholder('before'),
      after: rawPlaceholder('after'),
      requestId: rawPlaceholder('requestId'),
      at: rawPlaceholder('at'),
    })
    .prepare();

  return {
    /** Appends one event inside the caller's transaction. */
    record(_tx: DbOrTx, actor: Actor, entry: AuditEntry): void {
      insertStatement.run({
        id: newId(),
        clusterId: entry.clusterId,
        actorType: actor.type,
        actorId: actor.id ?? null,
        actorLabel: actor.label ?? null,
        action: entry.action,
        targetType: entry.targetType,
        targetId: entry.targetId ?? null,
        before: entry.before ? JSON.stringify(entry.before) : null,
        after: entry.after ? JSON.stringify(entry.after) : null,
        requestId: actor.requestId ?? null,
        at: clock.now().getTime(),
      });
    },

    /**
     * A page of a cluster's events, newest first, optionally only those whose actor's name contains
     * `actor`, whose action is `action` (or, without a dot, any of that noun: "booking"), and from
     * `from` until before `to`.
     */
    list(clusterId: string, options: AuditFilter & { cursor?: string; limit: number }) {
      const before = decodeCursor(options.cursor, ['id']);
      const conditions: (SQL | undefined)[] = [eq(auditEvents.clusterId, clusterId)];
      if (before) conditions.push(lt(auditEvents.id, before[0] as string));
      if (options.actor) conditions.push(sql`instr(fold(${auditEvents.actorLabel}), ${options.actor.toLowerCase()}) > 0`);
      if (options.action) {
        conditions.push(
          options.action.includes('.') ? eq(auditEvents.action, options.action) : like(auditEvents.action, `${options.action}.%`),
        );
      }
      if (options.from) conditions.push(gte(auditEvents.at, options.from));
      if (options.to) conditions.push(lt(auditEvents.at, options.to));
      const rows = db
        .select()
        .from(auditEvents)
        .where(and(...conditions))
        .orderBy(desc(auditEvents.id))
        .limit(options.limit + 1)
        .all();
      return pageOf(rows, options.limit, (row) => [row.id]);
    },

    /** The actions a cluster's log holds, for a filter to choose from. */
    actions(clusterId: string): string[] {
      return db
        .selectDistinct({ action: auditEvents.action })
        .from(auditEvents)
        .where(eq(auditEvents.clusterId, clusterId))
        .orderBy(auditEvents.action)
        .all()
        .map((row) => row.action);
    },
  };
}

/** The fields that differ between two snapshots, as before/after summaries. */
export function diff(before: Record<string, unknown>, after: Record<string, unknown>) {
  const changedBefore: Record<string, unknown> = {};
  const changedAfter: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      changedBefore[key] = before[key] ?? null;
      changedAfter[key] = after[key] ?? null;
    }
  }
  return { before: changedBefore, after: changedAfter };
}
