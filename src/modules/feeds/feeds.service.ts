// Calendar feeds answered from a cache: a conditional GET never renders, and an edit re-renders only what changed.
// A feed is read in pages of huddles and rendered in slices of a few milliseconds, giving the event loop
// back in between, so a feed of tens of thousands of huddles never stalls other requests; requests that
// arrive meanwhile share the one build.
import { createHash, type Hash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Cluster, Huddle, Member } from '../../db/schema.js';
import { boundedCache } from '../../lib/cache.js';
import type { Clock } from '../../lib/clock.js';
import { calendarFrame, eventContext, renderCalendar, renderEvent, type EventContext } from '../../shared/calendar.js';
import type { Site } from '../../shared/site.js';
import { renderPitchEvent } from '../bookings/bookings.render.js';
import type { BookingsService } from '../bookings/bookings.service.js';
import type { ClustersService, ClusterStamp } from '../clusters/clusters.service.js';
import type { HuddlesService } from '../huddles/huddles.service.js';
import type { RegistrationsService } from '../registrations/registrations.service.js';

const DAY = 86_400_000;
/** Feeds show huddles from 31 days ago to a year ahead, and cancellations for 30 days. */
const PAST_DAYS = 31;
const FUTURE_DAYS = 366;
const CANCELLED_DAYS = 30;
/** A member's feed keeps cancelled pitches this long as STATUS:CANCELLED, so subscribed calendars drop them. */
const CANCELLED_KEPT_MS = CANCELLED_DAYS * DAY;
const PAST_MS = PAST_DAYS * DAY;
export const FEED_TTL_SECONDS = 3600;
/** Built feeds kept, in characters of iCalendar text (a 500-huddle feed is about half a million). */
const MAX_FEED_CHARS = 64_000_000;
/** Rendered events kept, in characters (an event is about a thousand). */
const MAX_EVENT_CHARS = 64_000_000;
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

export type FeedsService = ReturnType<typeof createFeedsService>;

export function createFeedsService(deps: {
  clock: Clock;
  clusters: ClustersService;
  huddles: HuddlesService;
  bookings: BookingsService;
  registrations: RegistrationsService;
  site: Site;
  pageSize?: number;
}) {
  const { clock, huddles } = deps;
  const pageSize = deps.pageSize ?? PAGE_SIZE;
  // Built feeds by cluster, version, day and theme; rendered events by huddle and version. An edit
  // re-renders only the events that changed; the least recently used go first when full.
  const feeds = boundedCache<string, RenderedCalendar>(MAX_FEED_CHARS, (feed) => feed.body.length);
  const events = boundedCache<string, { version: string; text: string }>(MAX_EVENT_CHARS, (event) => event.text.length);
  const building = new Map<string, Promise<RenderedCalendar>>();

  const versionOf = (huddle: Pick<Huddle, 'version'>, context: EventContext) =>
    `${huddle.version}:${context.organizer.email}:${context.organizer.name}`;

  /** The public VEVENT of a huddle, rendered once per version of the row (and of the organiser it names). */
  function publicEvent(huddle: Huddle, context: EventContext): string {
    const cached = events.get(huddle.id);
    const version = versionOf(huddle, context);
    if (cached && cached.version === version) return cached.text;
    const text = renderEvent(huddle, context, { audience: 'public', stamp: huddle.updatedAt });
    events.set(huddle.id, { version, text });
    return text;
  }

  /** The same, from a feed row's version: the cached text when current, else the row read and rendered. */
  function feedEvent(entry: Pick<Huddle, 'id' | 'version'>, context: EventContext): string | undefined {
    const cached = events.get(entry.id);
    if (cached && cached.version === versionOf(entry, context)) return cached.text;
    const huddle = huddles.find(entry.id);
    return huddle ? publicEvent(huddle, context) : undefined;
  }

  function build(name: string, rows: Huddle[], context: EventContext, changedAt: Date): RenderedCalendar {
    const body = renderCalendar(
      { name, ttlSeconds: FEED_TTL_SECONDS, method: 'PUBLISH' },
      rows.map((row) => publicEvent(row, context)),
    );
    const lastModified = rows.reduce((latest, row) => (row.updatedAt > latest ? row.updatedAt : latest), changedAt);
    return { body, etag: etagOf(body), lastModified: new Date(Math.floor(lastModified.getTime() / 1000) * 1000) };
  }

  /**
   * Reads and renders the feed a page at a time. An edit that lands between two pages bumps the
   * cluster's huddle version, so the next request builds the feed again under the new key.
   */
  async function buildFeed(cluster: Cluster, theme: string | undefined, day: number): Promise<RenderedCalendar> {
    const context = eventContext(cluster, deps.site);
    const from = (day - PAST_DAYS) * DAY;
    const range = {
      clusterId: cluster.id,
      from,
      to: (day + FUTURE_DAYS) * DAY,
      cancelledSince: (day - CANCELLED_DAYS) * DAY,
      limit: pageSize,
    };
    const events: string[] = [];
    // The ETag is the hash of the body; it is worked out event by event, in the same slices.
    const { header, footer } = calendarFrame({
      name: theme ? `${cluster.name} (${theme})` : cluster.name,
      ttlSeconds: FEED_TTL_SECONDS,
      method: 'PUBLISH',
    });
    const hash = createHash('sha256').update(header);
    let lastModified = cluster.updatedAt;
    let after = { afterStart: from, afterId: '' };
    let sliceStart = performance.now();
    for (;;) {
      const rows = huddles.feedPage({ ...range, ...after });
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
     * day turns; the whole cluster is read only when the feed is built.
     */
    async clusterFeed(cluster: ClusterStamp, theme: string | undefined): Promise<RenderedCalendar> {
      const day = Math.floor(clock.now().getTime() / DAY);
      const key = `${cluster.id}|${cluster.huddlesVersion}|${day}|${theme ?? ''}`;
      const cached = feeds.get(key);
      if (cached) return cached;
      const pending = building.get(key);
      if (pending) return pending;
      const job = buildFeed(deps.clusters.getById(cluster.id), theme, day).then((feed) => {
        // Older versions of this feed can never be asked for again.
        for (const old of [...feeds.keys()]) if (old.startsWith(`${cluster.id}|`) && old.endsWith(`|${theme ?? ''}`)) feeds.delete(old);
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
    huddleCalendar(huddle: Huddle): RenderedCalendar {
      const cluster = deps.clusters.getById(huddle.clusterId);
      return build(`${cluster.name}: ${huddle.title}`, [huddle], eventContext(cluster, deps.site), huddle.updatedAt);
    },

    /**
     * A member's private feed: the huddles they registered for and their pitch slots, with the online
     * link public feeds never show. DTSTAMP is each item's last change, so the text (and its ETag)
     * changes only when one does.
     */
    memberCalendar(member: Member): RenderedCalendar {
      const cluster = deps.clusters.getById(member.clusterId);
      const now = clock.now().getTime();
      const context = eventContext(cluster, deps.site);
      const pitches = deps.bookings
        .forMember(member.id, { since: new Date(now - PAST_MS) })
        .filter(
          ({ booking }) =>
            booking.status === 'confirmed' ||
            (booking.status === 'cancelled' && booking.cancelledAt !== null && now - booking.cancelledAt.getTime() <= CANCELLED_KEPT_MS),
        );
      const attending = deps.registrations
        .forMember(member.id)
        .filter(
          ({ registration, huddle }) =>
            registration.status === 'registered' && huddle.startsAt.getTime() > now - PAST_MS && huddle.status !== 'draft',
        );
      const events = [
        ...attending.map(({ huddle }) => renderEvent(huddle, context, { audience: 'private', stamp: huddle.updatedAt })),
        ...pitches.map((pitch) => renderPitchEvent(pitch, context, { stamp: pitch.booking.updatedAt })),
      ];
      const body = renderCalendar({ name: `${cluster.name}: ${member.name}`, ttlSeconds: FEED_TTL_SECONDS, method: 'PUBLISH' }, events);
      const changed = [
        ...pitches.map(({ booking, huddle }) => [booking, huddle]),
        ...attending.map(({ registration, huddle }) => [registration, huddle]),
      ]
        .flat()
        .reduce((latest, row) => Math.max(latest, row.updatedAt.getTime()), member.updatedAt.getTime());
      return { body, etag: etagOf(body), lastModified: new Date(Math.floor(changed / 1000) * 1000) };
    },
  };
}
