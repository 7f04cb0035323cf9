// Huddles and series: create, edit (one or this-and-following), cancel; slots follow every change.
import { and, asc, eq, gt, gte, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { immediate, type Db, type DbOrTx } from '../../db/client.js';
import { bookings, clusters, huddleSeries, huddles, slots, waitlistOffers } from '../../db/schema.js';
import { problem } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import { diff } from '../audit/audit.service.js';
import type { Cluster, ClustersService } from '../clusters/clusters.service.js';
import type { HuddleCreateBody, HuddlePatchBody, SeriesCreateBody } from './huddles.schemas.js';
import { checkPlace, checkThemes, checkTimeZone, defaultPitchSettings, pitchSettings, timesFrom, type PitchSettings } from './huddles.settings.js';
import { computeSlots } from './huddles.slots.js';
import { expandRule } from './huddles.recurrence.js';
import { localToInstant } from './huddles.time.js';
import type { Huddle } from './huddles.view.js';

/**
 * What changed, for listeners that tell people: 'updated' (time, place or status), 'cancelled', or
 * 'slots-moved' (only the pitch slots moved, by the organiser's choice; pitchers are told).
 */
export type HuddleChange = 'updated' | 'cancelled' | 'slots-moved';

/** What an edit may do to existing bookings: refuse (the default) or move booked slots and tell the pitchers. */
export type BookingsChoice = 'refuse' | 'move';
export type HuddleChangeListener = (tx: DbOrTx, huddle: Huddle, change: HuddleChange) => void;
/** The columns that decide who may see a huddle, and its row version. */
export type HuddleStamp = Pick<Huddle, 'id' | 'clusterId' | 'status' | 'cancelledAt' | 'version'>;

const RECENTLY_CANCELLED_MS = 30 * 86_400_000;

function pitchOf(huddle: Huddle): PitchSettings {
  const { slotCount, slotMinutes, changeoverMinutes, pitchOffsetMinutes, bookingOpensDaysBefore, bookingClosesHoursBefore, cancellationCutoffHours, approvalRequired } = huddle;
  return { slotCount, slotMinutes, changeoverMinutes, pitchOffsetMinutes, bookingOpensDaysBefore, bookingClosesHoursBefore, cancellationCutoffHours, approvalRequired };
}

function snapshot(h: Huddle): Record<string, unknown> {
  return {
    title: h.title,
    description: h.description,
    startsAt: h.startsAt.toISOString(),
    endsAt: h.endsAt.toISOString(),
    timezone: h.timezone,
    venueName: h.venueName,
    venueAddress: h.venueAddress,
    onlineUrl: h.onlineUrl ? '(set)' : null,
    capacity: h.capacity,
    themes: h.themes,
    status: h.status,
    pitch: pitchOf(h),
  };
}

/** A change of time, place or status is one calendar apps must see: SEQUENCE grows. */
function isScheduleChange(before: Huddle, after: Huddle): boolean {
  return (
    before.startsAt.getTime() !== after.startsAt.getTime() ||
    before.endsAt.getTime() !== after.endsAt.getTime() ||
    before.venueName !== after.venueName ||
    before.venueAddress !== after.venueAddress ||
    before.onlineUrl !== after.onlineUrl ||
    before.status !== after.status
  );
}

/** A local date as a number of milliseconds, for counting whole days between dates. */
function calendarDay(local: DateTime): number {
  return Date.UTC(local.year, local.month - 1, local.day);
}

export interface ListQuery {
  from?: string;
  to?: string;
  theme?: string;
  status?: 'draft' | 'published' | 'cancelled';
  cursor?: string;
  limit?: number;
}

function decodeListCursor(cursor: string): { startsAt: number; id: string } {
  try {
    const [startsAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof startsAt === 'number' && typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id)) return { startsAt, id };
  } catch {
    // Falls through to the problem below.
  }
  throw problem('VALIDATION_FAILED', 'querystring/cursor is not a cursor this service gave out', {
    errors: [{ field: 'querystring/cursor', message: 'is not valid' }],
  });
}

export type HuddlesService = ReturnType<typeof createHuddlesService>;

export function createHuddlesService(deps: {
  db: Db;
  clock: Clock;
  audit: AuditService;
  clusters: ClustersService;
  listeners?: HuddleChangeListener[];
  /** Called in the transaction after every saved edit (e.g. a raised capacity lets people in from the waiting line). */
  afterSave?: ((tx: DbOrTx, huddle: Huddle) => void)[];
}) {
  const { db, clock, audit } = deps;
  const listeners = deps.listeners ?? [];

  const byId = db.select().from(huddles).where(eq(huddles.id, sql.placeholder('id'))).prepare();
  const stampById = db
    .select({ id: huddles.id, clusterId: huddles.clusterId, status: huddles.status, cancelledAt: huddles.cancelledAt, version: huddles.version })
    .from(huddles)
    .where(eq(huddles.id, sql.placeholder('id')))
    .prepare();

  function bumpFeed(tx: DbOrTx, clusterId: string) {
    tx.update(clusters).set({ huddlesVersion: sql`${clusters.huddlesVersion} + 1` }).where(eq(clusters.id, clusterId)).run();
  }

  /**
   * Brings the stored slots in line with the huddle, position by position, so a booking keeps its slot.
   * Removing a booked slot is always refused; moving one is refused unless the organiser chose 'move'.
   * Returns whether any booked slot moved.
   */
  function writeSlots(tx: DbOrTx, huddle: Huddle, choice: BookingsChoice = 'refuse'): boolean {
    const times = computeSlots(huddle.startsAt, {
      slotCount: huddle.slotCount,
      slotMinutes: huddle.slotMinutes,
      changeoverMinutes: huddle.changeoverMinutes,
      startOffsetMinutes: huddle.pitchOffsetMinutes,
    });
    const existing = tx.select().from(slots).where(eq(slots.huddleId, huddle.id)).orderBy(asc(slots.position)).all();
    const booked = new Set(
      tx
        .select({ slotId: bookings.slotId })
        .from(bookings)
        .where(and(eq(bookings.huddleId, huddle.id), inArray(bookings.status, ['pending', 'confirmed'])))
        .all()
        .map((row) => row.slotId),
    );
    const removedBooked = existing.slice(times.length).filter((slot) => booked.has(slot.id));
    if (removedBooked.length > 0) {
      throw problem('BOOKINGS_AFFECTED', `Slots ${removedBooked.map((slot) => slot.position).join(', ')} have bookings: cancel those bookings before removing their slots`);
    }
    let movedBooked = false;
    for (const [index, slot] of existing.entries()) {
      const next = times[index];
      if (!next || (slot.startsAt.getTime() === next.startsAt.getTime() && slot.endsAt.getTime() === next.endsAt.getTime())) continue;
      if (booked.has(slot.id)) {
        if (choice !== 'move') {
          throw problem('BOOKINGS_AFFECTED', `This change moves booked pitch slots; send it again with ?bookings=move to move them and tell the pitchers`);
        }
        movedBooked = true;
      }
      tx.update(slots).set({ startsAt: next.startsAt, endsAt: next.endsAt }).where(eq(slots.id, slot.id)).run();
    }
    if (existing.length > times.length) tx.delete(slots).where(and(eq(slots.huddleId, huddle.id), gt(slots.position, times.length))).run();
    const added = times.slice(existing.length);
    if (added.length > 0) tx.insert(slots).values(added.map((slot) => ({ id: newId(), huddleId: huddle.id, ...slot }))).run();
    return movedBooked;
  }

  /** Checks and normalises a new huddle's fields (shared by one-off huddles and series templates). */
  function newHuddleFields(cluster: Cluster, body: Omit<HuddleCreateBody, 'status'>) {
    const timezone = checkTimeZone(body.timezone ?? cluster.timezone);
    const venue = body.venue ?? null;
    const onlineUrl = body.onlineUrl ?? null;
    checkPlace(venue, onlineUrl);
    return {
      clusterId: cluster.id,
      title: body.title.trim(),
      description: body.description ?? '',
      timezone,
      venueName: venue?.name.trim() ?? null,
      venueAddress: venue?.address ?? null,
      onlineUrl,
      capacity: body.capacity ?? null,
      themes: checkThemes(body.themes ?? [], cluster.themes),
      ...pitchSettings(body.pitch, defaultPitchSettings(cluster.bookingPolicy), body.durationMinutes),
    };
  }

  function insertHuddle(tx: DbOrTx, fields: ReturnType<typeof newHuddleFields>, times: { startsAt: Date; endsAt: Date }, status: 'draft' | 'published', seriesId: string | null) {
    const now = clock.now();
    const row = tx
      .insert(huddles)
      .values({ id: newId(), ...fields, ...times, seriesId, status, sequence: 0, createdAt: now, updatedAt: now })
      .returning()
      .get();
    writeSlots(tx, row);
    return row;
  }

  function get(id: string): Huddle {
    const huddle = byId.get({ id });
    if (!huddle) throw problem('HUDDLE_NOT_FOUND', `There is no huddle ${id}`);
    return huddle;
  }

  /** An organiser's huddle: one of another cluster is "not found", so existence never leaks. */
  function getOwned(id: string, clusterId: string): Huddle {
    const huddle = byId.get({ id });
    if (!huddle || huddle.clusterId !== clusterId) throw problem('HUDDLE_NOT_FOUND', `There is no huddle ${id}`);
    return huddle;
  }

  function isPublic(huddle: Pick<Huddle, 'status' | 'cancelledAt'>, now: Date): boolean {
    return huddle.status === 'published' || (huddle.status === 'cancelled' && huddle.cancelledAt !== null && now.getTime() - huddle.cancelledAt.getTime() <= RECENTLY_CANCELLED_MS);
  }

  /** Applies a patch to one huddle; returns the new row (not yet written). */
  function patched(current: Huddle, cluster: Cluster, body: HuddlePatchBody, startOverride?: Date): Huddle {
    if (current.status === 'cancelled') throw problem('HUDDLE_CANCELLED', 'A cancelled huddle cannot be changed');
    const timezone = body.timezone !== undefined ? checkTimeZone(body.timezone) : current.timezone;
    const durationMinutes = body.durationMinutes ?? Math.round((current.endsAt.getTime() - current.startsAt.getTime()) / 60_000);
    let startsAt = current.startsAt;
    if (startOverride) startsAt = startOverride;
    else if (body.start !== undefined) startsAt = timesFrom(body.start, timezone, durationMinutes).startsAt;
    const venue = body.venue !== undefined ? body.venue : current.venueName ? { name: current.venueName, address: current.venueAddress } : null;
    const onlineUrl = body.onlineUrl !== undefined ? body.onlineUrl : current.onlineUrl;
    checkPlace(venue, onlineUrl);
    return {
      ...current,
      title: body.title?.trim() ?? current.title,
      description: body.description ?? current.description,
      timezone,
      startsAt,
      endsAt: new Date(startsAt.getTime() + durationMinutes * 60_000),
      venueName: venue?.name.trim() ?? null,
      venueAddress: venue?.address ?? null,
      onlineUrl,
      capacity: body.capacity !== undefined ? body.capacity : current.capacity,
      themes: body.themes !== undefined ? checkThemes(body.themes, cluster.themes) : current.themes,
      status: body.status ?? current.status,
      ...pitchSettings(body.pitch, pitchOf(current), durationMinutes),
    };
  }

  /** Writes a changed huddle: SEQUENCE, slots, feed version, audit, and notices to the people concerned. */
  function save(tx: DbOrTx, before: Huddle, after: Huddle, actor: Actor, action: string, change: HuddleChange, choice: BookingsChoice = 'refuse'): Huddle {
    const changes = diff(snapshot(before), snapshot(after));
    if (Object.keys(changes.after).length === 0) return before;
    const scheduleChanged = isScheduleChange(before, after);
    if (before.status === 'published' && after.status === 'draft' && hasActiveBookings(tx, before.id)) {
      throw problem('BOOKINGS_AFFECTED', 'This huddle has bookings: cancel it (which tells the pitchers) rather than turning it back into a draft');
    }
    const row = tx
      .update(huddles)
      .set({ ...after, id: before.id, sequence: before.sequence + (scheduleChanged ? 1 : 0), version: before.version + 1, updatedAt: clock.now() })
      .where(eq(huddles.id, before.id))
      .returning()
      .get();
    // A cancelled huddle keeps its slots as they were: its bookings are cancelled by the listeners.
    const slotsMoved = change === 'cancelled' ? false : writeSlots(tx, row, choice);
    bumpFeed(tx, row.clusterId);
    audit.record(tx, actor, { clusterId: row.clusterId, action, targetType: 'huddle', targetId: row.id, ...changes });
    // Drafts have told nobody anything yet; published changes of time, place or status are announced.
    if (before.status !== 'draft') {
      if (scheduleChanged) for (const listener of listeners) listener(tx, row, change);
      else if (slotsMoved) for (const listener of listeners) listener(tx, row, 'slots-moved');
    }
    for (const hook of deps.afterSave ?? []) hook(tx, row);
    return row;
  }

  function hasActiveBookings(tx: DbOrTx, huddleId: string): boolean {
    return tx
      .select({ id: bookings.id })
      .from(bookings)
      .where(and(eq(bookings.huddleId, huddleId), inArray(bookings.status, ['pending', 'confirmed'])))
      .limit(1)
      .get() !== undefined;
  }

  /** The huddle and, with scope 'following', the later occurrences of its series. */
  function inScope(tx: DbOrTx, huddle: Huddle, scope: 'this' | 'following'): Huddle[] {
    if (scope === 'this' || !huddle.seriesId) return [huddle];
    return tx
      .select()
      .from(huddles)
      .where(and(eq(huddles.seriesId, huddle.seriesId), gte(huddles.startsAt, huddle.startsAt)))
      .orderBy(asc(huddles.startsAt))
      .all()
      .filter((h) => h.status !== 'cancelled' || h.id === huddle.id);
  }

  return {
    get,
    getOwned,
    isPublic,

    /** Whole rows of these huddles, in no particular order (ids that do not exist are left out). */
    getMany(ids: string[]): Huddle[] {
      return db.select().from(huddles).where(inArray(huddles.id, ids)).all();
    },

    /** What says who may see a huddle and whether a cached view of it is current, without reading the whole row. */
    stamp(id: string): HuddleStamp {
      const stamp = stampById.get({ id });
      if (!stamp) throw problem('HUDDLE_NOT_FOUND', `There is no huddle ${id}`);
      return stamp;
    },

    create(cluster: Cluster, body: HuddleCreateBody, actor: Actor): Huddle {
      const fields = newHuddleFields(cluster, body);
      const times = timesFrom(body.start, fields.timezone, body.durationMinutes);
      return immediate(db, (tx) => {
        const row = insertHuddle(tx, fields, times, body.status ?? 'draft', null);
        bumpFeed(tx, cluster.id);
        audit.record(tx, actor, { clusterId: cluster.id, action: 'huddle.created', targetType: 'huddle', targetId: row.id, after: snapshot(row) });
        return row;
      });
    },

    createSeries(cluster: Cluster, body: SeriesCreateBody, actor: Actor) {
      const fields = newHuddleFields(cluster, body.template);
      const first = timesFrom(body.template.start, fields.timezone, body.template.durationMinutes);
      const starts = expandRule(body.rrule, first.start, fields.timezone);
      const durationMs = body.template.durationMinutes * 60_000;
      return immediate(db, (tx) => {
        const series = tx
          .insert(huddleSeries)
          .values({ id: newId(), clusterId: cluster.id, rrule: body.rrule.trim().replace(/^RRULE:/i, '').toUpperCase(), timezone: fields.timezone, createdAt: clock.now() })
          .returning()
          .get();
        const rows = starts.map((start) => {
          const startsAt = start.toJSDate();
          return insertHuddle(tx, fields, { startsAt, endsAt: new Date(startsAt.getTime() + durationMs) }, body.status ?? 'draft', series.id);
        });
        bumpFeed(tx, cluster.id);
        audit.record(tx, actor, {
          clusterId: cluster.id,
          action: 'series.created',
          targetType: 'series',
          targetId: series.id,
          after: { rrule: series.rrule, timezone: series.timezone, occurrences: rows.length, title: fields.title },
        });
        return { series, huddles: rows };
      });
    },

    /** Edits one huddle, or it and the following occurrences of its series (same wall-clock shift for each). */
    update(huddleId: string, cluster: Cluster, body: HuddlePatchBody, scope: 'this' | 'following', actor: Actor, choice: BookingsChoice = 'refuse'): Huddle {
      return immediate(db, (tx) => {
        const target = getOwned(huddleId, cluster.id);
        const first = patched(target, cluster, body);
        const oldLocal = DateTime.fromJSDate(target.startsAt, { zone: target.timezone });
        const newLocal = DateTime.fromJSDate(first.startsAt, { zone: first.timezone });
        const dayShift = Math.round((calendarDay(newLocal) - calendarDay(oldLocal)) / 86_400_000);
        let result = target;
        for (const occurrence of inScope(tx, target, scope)) {
          let startOverride: Date | undefined;
          if (occurrence.id !== target.id && body.start !== undefined) {
            // Same local time of day and the same day shift in each occurrence's own zone.
            const local = DateTime.fromJSDate(occurrence.startsAt, { zone: occurrence.timezone }).plus({ days: dayShift });
            startOverride = localToInstant({ year: local.year, month: local.month, day: local.day, hour: newLocal.hour, minute: newLocal.minute }, first.timezone).toJSDate();
          }
          const next = occurrence.id === target.id ? first : patched(occurrence, cluster, body, startOverride);
          const saved = save(tx, occurrence, next, actor, 'huddle.updated', 'updated', choice);
          if (occurrence.id === target.id) result = saved;
        }
        return result;
      });
    },

    cancel(huddleId: string, cluster: Cluster, reason: string, scope: 'this' | 'following', actor: Actor): Huddle {
      return immediate(db, (tx) => {
        const target = getOwned(huddleId, cluster.id);
        if (target.status === 'cancelled') throw problem('HUDDLE_CANCELLED', 'This huddle is cancelled already');
        const now = clock.now();
        let result = target;
        for (const occurrence of inScope(tx, target, scope)) {
          if (occurrence.status === 'cancelled') continue;
          const saved = save(tx, occurrence, { ...occurrence, status: 'cancelled', cancelReason: reason.trim(), cancelledAt: now }, actor, 'huddle.cancelled', 'cancelled');
          if (occurrence.id === target.id) result = saved;
        }
        return result;
      });
    },

    list(clusterId: string, query: ListQuery, audience: 'public' | 'organiser') {
      const now = clock.now();
      const limit = query.limit ?? 50;
      const conditions: (SQL | undefined)[] = [eq(huddles.clusterId, clusterId)];
      const from = query.from ? new Date(query.from) : new Date(now.getTime() - 86_400_000);
      conditions.push(gte(huddles.startsAt, from));
      if (query.to) conditions.push(lt(huddles.startsAt, new Date(query.to)));
      if (query.status) conditions.push(eq(huddles.status, query.status));
      if (audience === 'public') {
        conditions.push(or(eq(huddles.status, 'published'), and(eq(huddles.status, 'cancelled'), gte(huddles.cancelledAt, new Date(now.getTime() - RECENTLY_CANCELLED_MS)))));
      }
      if (query.theme) conditions.push(sql`EXISTS (SELECT 1 FROM json_each(${huddles.themes}) WHERE json_each.value = ${query.theme})`);
      if (query.cursor) {
        const after = decodeListCursor(query.cursor);
        conditions.push(or(gt(huddles.startsAt, new Date(after.startsAt)), and(eq(huddles.startsAt, new Date(after.startsAt)), gt(huddles.id, after.id))));
      }
      // Only what names a huddle and its version: the views are shaped (or kept) per huddle.
      const rows = db
        .select({ id: huddles.id, version: huddles.version, startsAt: huddles.startsAt })
        .from(huddles)
        .where(and(...conditions))
        .orderBy(asc(huddles.startsAt), asc(huddles.id))
        .limit(limit + 1)
        .all();
      const more = rows.length > limit;
      const page = more ? rows.slice(0, limit) : rows;
      const last = page[page.length - 1];
      return {
        rows: page,
        nextCursor: more && last ? Buffer.from(JSON.stringify([last.startsAt.getTime(), last.id])).toString('base64url') : null,
      };
    },

    slots(huddleId: string) {
      return db.select().from(slots).where(eq(slots.huddleId, huddleId)).orderBy(asc(slots.position)).all();
    },

    /** Ids of the slots that hold a pending or confirmed booking, or are offered to the waitlist. */
    takenSlotIds(huddleId: string): Set<string> {
      const booked = db
        .select({ slotId: bookings.slotId })
        .from(bookings)
        .where(and(eq(bookings.huddleId, huddleId), inArray(bookings.status, ['pending', 'confirmed'])))
        .all();
      const offered = db
        .select({ slotId: waitlistOffers.slotId })
        .from(waitlistOffers)
        .where(and(eq(waitlistOffers.huddleId, huddleId), eq(waitlistOffers.status, 'open')))
        .all();
      return new Set([...booked, ...offered].map((row) => row.slotId));
    },

    seriesOf(seriesId: string) {
      return db.select().from(huddleSeries).where(eq(huddleSeries.id, seriesId)).get();
    },
  };
}
