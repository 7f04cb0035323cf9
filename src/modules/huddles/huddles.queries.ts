// The huddles read as lists and pages: the API's list, a cluster feed's horizon, the reminders due,
// rows by id, and who may see a huddle.
import { and, asc, eq, gt, gte, inArray, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.js';
import { byLimit } from '../../db/limits.js';
import { huddles, type Huddle } from '../../db/schema.js';
import type { Clock } from '../../lib/clock.js';
import { decodeCursor, pageOf } from '../../lib/pagination.js';

/** Cancelled huddles stay public (in lists, pages and feeds, marked cancelled) this long. */
export const RECENTLY_CANCELLED_MS = 30 * 86_400_000;

/** Published, or cancelled recently: what the public may see. */
export function isPublic(huddle: Pick<Huddle, 'status' | 'cancelledAt'>, now: Date): boolean {
  return (
    huddle.status === 'published' ||
    (huddle.status === 'cancelled' && huddle.cancelledAt !== null && now.getTime() - huddle.cancelledAt.getTime() <= RECENTLY_CANCELLED_MS)
  );
}

/** The longest list read by a prepared statement (a page of a feed, the upcoming huddles of a page). */
const MOST_LISTED = 1000;

export interface ListQuery {
  from?: string;
  to?: string;
  theme?: string;
  status?: 'draft' | 'published' | 'cancelled';
  cursor?: string;
  limit?: number;
}

export function createHuddleQueries(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;
  // One page of a cluster's public feed horizon, after the (start, id) the previous page ended with
  // (keyset paging on huddles_cluster_start). Only what tells whether a cached event is current.
  // One statement per page size (src/db/limits.ts: a bound LIMIT is compiled again on every run).
  const feedPage = byLimit(
    (limit) =>
      db
        .select({
          id: huddles.id,
          startsAt: huddles.startsAt,
          updatedAt: huddles.updatedAt,
          version: huddles.version,
          themes: huddles.themes,
        })
        .from(huddles)
        .where(
          and(
            eq(huddles.clusterId, sql.placeholder('clusterId')),
            gte(huddles.startsAt, sql`${sql.placeholder('from')}`),
            sql`(${huddles.startsAt}, ${huddles.id}) > (${sql.placeholder('afterStart')}, ${sql.placeholder('afterId')})`,
            lt(huddles.startsAt, sql`${sql.placeholder('to')}`),
            or(
              eq(huddles.status, 'published'),
              and(eq(huddles.status, 'cancelled'), gte(huddles.cancelledAt, sql`${sql.placeholder('cancelledSince')}`)),
            ),
          ),
        )
        .orderBy(asc(huddles.startsAt), asc(huddles.id))
        .limit(limit)
        .prepare(),
    MOST_LISTED,
  );

  // The next public huddles of a cluster as whole rows, for its web page and the embed: prepared once
  // (building the list query and then reading the rows by id was half of a cluster page's time).
  const upcomingPublic = byLimit(
    (limit) =>
      db
        .select()
        .from(huddles)
        .where(
          and(
            eq(huddles.clusterId, sql.placeholder('clusterId')),
            gte(huddles.startsAt, sql`${sql.placeholder('from')}`),
            or(
              eq(huddles.status, 'published'),
              and(eq(huddles.status, 'cancelled'), gte(huddles.cancelledAt, sql`${sql.placeholder('cancelledSince')}`)),
            ),
            sql`(${sql.placeholder('theme')} IS NULL OR EXISTS (SELECT 1 FROM json_each(${huddles.themes}) WHERE json_each.value = ${sql.placeholder('theme')}))`,
          ),
        )
        .orderBy(asc(huddles.startsAt), asc(huddles.id))
        .limit(limit)
        .prepare(),
    MOST_LISTED,
  );

  /** Whole rows of these huddles by id (ids that do not exist are left out), in the caller's transaction. */
  function getMany(tx: DbOrTx, ids: string[]): Map<string, Huddle> {
    if (ids.length === 0) return new Map();
    return new Map(
      tx
        .select()
        .from(huddles)
        .where(inArray(huddles.id, [...new Set(ids)]))
        .all()
        .map((huddle) => [huddle.id, huddle]),
    );
  }

  return {
    getMany,

    /** Each row beside its huddle, soonest huddle first (rows whose huddle does not exist cannot occur: foreign keys). */
    withHuddles<Row extends { huddleId: string }>(tx: DbOrTx, rows: Row[]): { row: Row; huddle: Huddle }[] {
      const theirs = getMany(
        tx,
        rows.map((row) => row.huddleId),
      );
      return rows
        .map((row) => ({ row, huddle: theirs.get(row.huddleId)! }))
        .sort((a, b) => a.huddle.startsAt.getTime() - b.huddle.startsAt.getTime());
    },

    /** A page of a cluster's huddles by start: ids and versions (the views are shaped, or kept, per huddle). */
    list(clusterId: string, query: ListQuery, audience: 'public' | 'organiser') {
      const now = clock.now();
      const limit = query.limit ?? 50;
      const after = decodeCursor(query.cursor, ['number', 'id']);
      const conditions: (SQL | undefined)[] = [eq(huddles.clusterId, clusterId)];
      const from = query.from ? new Date(query.from) : new Date(now.getTime() - 86_400_000);
      conditions.push(gte(huddles.startsAt, from));
      if (query.to) conditions.push(lt(huddles.startsAt, new Date(query.to)));
      if (query.status) conditions.push(eq(huddles.status, query.status));
      if (audience === 'public') {
        conditions.push(
          or(
            eq(huddles.status, 'published'),
            and(eq(huddles.status, 'cancelled'), gte(huddles.cancelledAt, new Date(now.getTime() - RECENTLY_CANCELLED_MS))),
          ),
        );
      }
      if (query.theme) conditions.push(sql`EXISTS (SELECT 1 FROM json_each(${huddles.themes}) WHERE json_each.value = ${query.theme})`);
      if (after) {
        const [startsAt, id] = after as [number, string];
        conditions.push(or(gt(huddles.startsAt, new Date(startsAt)), and(eq(huddles.startsAt, new Date(startsAt)), gt(huddles.id, id))));
      }
      const rows = db
        .select({ id: huddles.id, version: huddles.version, startsAt: huddles.startsAt })
        .from(huddles)
        .where(and(...conditions))
        .orderBy(asc(huddles.startsAt), asc(huddles.id))
        .limit(limit + 1)
        .all();
      return pageOf(rows, limit, (row) => [row.startsAt.getTime(), row.id]);
    },

    /**
     * The next `limit` huddles of a cluster the public may see (as `list` with the public audience and
     * no cursor: from a day ago, published or cancelled lately), soonest first, optionally on one theme.
     */
    upcomingPublic(clusterId: string, limit: number, theme?: string): Huddle[] {
      const now = clock.now().getTime();
      return upcomingPublic(limit).all({
        clusterId,
        from: now - 86_400_000,
        cancelledSince: now - RECENTLY_CANCELLED_MS,
        theme: theme ?? null,
      });
    },

    /** One page of a cluster's public feed horizon (published, and cancelled since `cancelledSince`), after (afterStart, afterId). */
    feedPage(range: {
      clusterId: string;
      from: number;
      to: number;
      cancelledSince: number;
      afterStart: number;
      afterId: string;
      limit: number;
    }) {
      const { limit, ...bounds } = range;
      return feedPage(limit).all(bounds);
    },

    /** Published huddles starting in [from, to], soonest first (the reminders job). */
    publishedStartingBetween(from: Date, to: Date): Huddle[] {
      return db
        .select()
        .from(huddles)
        .where(and(eq(huddles.status, 'published'), gt(huddles.startsAt, from), lte(huddles.startsAt, to)))
        .orderBy(asc(huddles.startsAt))
        .all();
    },

    /** The start of each of these huddles that belongs to this cluster, by id (a rolling pitch limit counts them). */
    startsOf(tx: DbOrTx, clusterId: string, ids: string[]): Map<string, Date> {
      if (ids.length === 0) return new Map();
      const rows = tx
        .select({ id: huddles.id, startsAt: huddles.startsAt })
        .from(huddles)
        .where(and(eq(huddles.clusterId, clusterId), inArray(huddles.id, [...new Set(ids)])))
        .all();
      return new Map(rows.map((row) => [row.id, row.startsAt]));
    },
  };
}
