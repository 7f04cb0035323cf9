// Calendar feeds answered from a cache: a conditional GET never renders, and an edit re-renders only what changed.
// A feed is read in pages of huddles and rendered in slices of a few milliseconds, giving the event loop
// back in between, so a feed of tens of thousands of huddles never stalls other requests; requests that
// arrive meanwhile share the one build.
import { createHash, type Hash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { and, asc, eq, gte, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { huddles } from '../../db/schema.js';
import type { Clock } from '../../lib/clock.js';
import type { Cluster, ClusterStamp } from '../clusters/clusters.service.js';
import type { Huddle } from '../huddles/huddles.view.js';
import { calendarFrame, hostOf, renderCalendar, renderEvent, type EventContext } from './feeds.render.js';

const DAY = 86_400_000;
/** Feeds show huddles from 31 days ago to a year ahead, and cancellations for 30 days. */
const PAST_DAYS = 31;
const FUTURE_DAYS = 366;
const CANCELLED_DAYS = 30;
export const FEED_TTL_SECONDS = 3600;
const MAX_CACHED_FEEDS = 2000;
const MAX_CACHED_EVENTS = 100_000;
/** Huddles read at a time. */
const PAGE_SIZE = 1000;
/** Rendering gives the event loop back after this long, so other requests are never kept waiting. */
const SLICE_MS = 20;

export interface RenderedCalendar {
  body: string;
  etag: string;
  lastModified: Date;
}

export function etagOf(body: string): string {
  return etagFromHash(createHash('sha256').update(body));
}

function etagFromHash(hash: Hash): string {
  return `"${hash.digest('base64url').slice(0, 27)}"`;
}

/** The organiser named in calendar data: the cluster's public contact, else the service's From address. */
export function eventContext(cluster: Cluster, baseUrl: string, mailFrom: string): EventContext {
  const fromAddress = /<([^>]+)>\s*$/.exec(mailFrom)?.[1] ?? mailFrom;
  return { host: hostOf(baseUrl), baseUrl, organizer: { name: cluster.name, email: cluster.contactEmail ?? fromAddress } };
}

export type FeedsService = ReturnType<typeof createFeedsService>;

export function createFeedsService(deps: { db: Db; clock: Clock; baseUrl: string; mailFrom: string; pageSize?: number }) {
  const { db, clock } = deps;
  const pageSize = deps.pageSize ?? PAGE_SIZE;
  const feeds = new Map<string, RenderedCalendar>();
  const events = new Map<string, { version: string; text: string }>();

  const building = new Map<string, Promise<RenderedCalendar>>();

  // One page of the horizon, after the (start, id) the previous page ended with (keyset paging on
  // the huddles_cluster_start index). Only what tells whether the cached event is current is read;
  // the whole row only for events that changed, so an edit costs one row, not the feed.
  const inHorizon = db
    .select({ id: huddles.id, startsAt: huddles.startsAt, updatedAt: huddles.updatedAt, version: huddles.version, themes: huddles.themes })
    .from(huddles)
    .where(
      and(
        eq(huddles.clusterId, sql.placeholder('clusterId')),
        gte(huddles.startsAt, sql`${sql.placeholder('from')}`),
        sql`(${huddles.startsAt}, ${huddles.id}) > (${sql.placeholder('afterStart')}, ${sql.placeholder('afterId')})`,
        lt(huddles.startsAt, sql`${sql.placeholder('to')}`),
        or(eq(huddles.status, 'published'), and(eq(huddles.status, 'cancelled'), gte(huddles.cancelledAt, sql`${sql.placeholder('cancelledSince')}`))),
      ),
    )
    .orderBy(asc(huddles.startsAt), asc(huddles.id))
    .limit(pageSize)
    .prepare();

  const wholeRow = db.select().from(huddles).where(eq(huddles.id, sql.placeholder('id'))).prepare();

  const versionOf = (huddle: Pick<Huddle, 'version'>, context: EventContext) => `${huddle.version}:${context.organizer.email}:${context.organizer.name}`;

  /** The public VEVENT of a huddle, rendered once per version of the row (and of the organiser it names). */
  function publicEvent(huddle: Huddle, context: EventContext): string {
    const cached = events.get(huddle.id);
    const version = versionOf(huddle, context);
    if (cached && cached.version === version) return cached.text;
    const text = renderEvent(huddle, context, { audience: 'public', stamp: huddle.updatedAt });
    if (events.size >= MAX_CACHED_EVENTS) events.clear();
    events.set(huddle.id, { version, text });
    return text;
  }

  /** The same, from a feed row's version: the cached text when current, else the row read and rendered. */
  function feedEvent(entry: Pick<Huddle, 'id' | 'version'>, context: EventContext): string | undefined {
    const cached = events.get(entry.id);
    if (cached && cached.version === versionOf(entry, context)) return cached.text;
    const huddle = wholeRow.get({ id: entry.id });
    return huddle ? publicEvent(huddle, context) : undefined;
  }

  function build(name: string, rows: Huddle[], context: EventContext, changedAt: Date): RenderedCalendar {
    const body = renderCalendar({ name, ttlSeconds: FEED_TTL_SECONDS, method: 'PUBLISH' }, rows.map((row) => publicEvent(row, context)));
    const lastModified = rows.reduce((latest, row) => (row.updatedAt > latest ? row.updatedAt : latest), changedAt);
    return { body, etag: etagOf(body), lastModified: new Date(Math.floor(lastModified.getTime() / 1000) * 1000) };
  }

  /**
   * Reads and renders the feed a page at a time. An edit that lands between two pages bumps the
   * cluster's huddle version, so the next request builds the feed again under the new key.
   */
  async function buildFeed(cluster: Cluster, theme: string | undefined, day: number): Promise<RenderedCalendar> {
    const context = eventContext(cluster, deps.baseUrl, deps.mailFrom);
    const from = (day - PAST_DAYS) * DAY;
    const range = { clusterId: cluster.id, from, to: (day + FUTURE_DAYS) * DAY, cancelledSince: (day - CANCELLED_DAYS) * DAY };
    const events: string[] = [];
    // The ETag is the hash of the body; it is worked out event by event, in the same slices.
    const { header, footer } = calendarFrame({ name: theme ? `${cluster.name} (${theme})` : cluster.name, ttlSeconds: FEED_TTL_SECONDS, method: 'PUBLISH' });
    const hash = createHash('sha256').update(header);
    let lastModified = cluster.updatedAt;
    let after = { afterStart: from, afterId: '' };
    let sliceStart = performance.now();
    for (;;) {
      const rows = inHorizon.all({ ...range, ...after });
      for (const row of rows) {
        if (theme !== undefined && !row.themes.includes(theme)) continue;
        const event = feedEvent(row, context);
        if (event === undefined) continue; // deleted since the page was read
        events.push(event);
        hash.update(event);
        if (row.updatedAt > lastModified) lastModified = row.updatedAt;
        if (performance.now() - sliceStart > SLICE_MS) {
          await yieldToLoop();
          sliceStart = performance.now();
        }
      }
      if (rows.length < pageSize) break;
      const last = rows[rows.length - 1]!;
      after = { afterStart: last.startsAt.getTime(), afterId: last.id };
      await yieldToLoop();
      sliceStart = performance.now();
    }
    const body = header + events.join('') + footer;
    return { body, etag: etagFromHash(hash.update(footer)), lastModified: new Date(Math.floor(lastModified.getTime() / 1000) * 1000) };
  }

  return {
    /**
     * The public feed of a cluster (optionally one theme). Cached until a huddle or the cluster changes, or the
     * day turns; `load` reads the whole cluster only when the feed is built.
     */
    async clusterFeed(cluster: ClusterStamp, theme: string | undefined, load: () => Cluster): Promise<RenderedCalendar> {
      const day = Math.floor(clock.now().getTime() / DAY);
      const key = `${cluster.id}|${cluster.huddlesVersion}|${day}|${theme ?? ''}`;
      const cached = feeds.get(key);
      if (cached) return cached;
      const pending = building.get(key);
      if (pending) return pending;
      const job = buildFeed(load(), theme, day).then((feed) => {
        if (feeds.size >= MAX_CACHED_FEEDS) feeds.clear();
        // Older versions of this feed can never be asked for again.
        for (const old of feeds.keys()) if (old.startsWith(`${cluster.id}|`) && old.endsWith(`|${theme ?? ''}`)) feeds.delete(old);
        feeds.set(key, feed);
        return feed;
      });
      building.set(key, job);
      try {
        return await job;
      } finally {
        building.delete(key);
      }
    },

    /** One huddle as a calendar file. */
    huddleCalendar(cluster: Cluster, huddle: Huddle): RenderedCalendar {
      return build(`${cluster.name}: ${huddle.title}`, [huddle], eventContext(cluster, deps.baseUrl, deps.mailFrom), huddle.updatedAt);
    },
  };
}
