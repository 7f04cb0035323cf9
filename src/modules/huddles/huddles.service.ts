// Huddles and series: create, edit (one or this-and-following), cancel, list, and who may see them.
// Every saved change is announced on hooks.changed in its own transaction: pitch slots and bookings,
// waitlists, invitations and registrations react there (each in its own module).
import { and, asc, eq, gte, sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { immediate, type Db, type DbOrTx } from '../../db/client.js';
import { fastRows } from '../../db/rows.js';
import { huddles, type Cluster, type Huddle } from '../../db/schema.js';
import { problem } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { hook } from '../../lib/hooks.js';
import { checkTimeZone } from '../../lib/text.js';
import type { Principal } from '../../shared/principals.js';
import type { Site } from '../../shared/site.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import { diff } from '../audit/audit.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { HuddlePatchBody } from './huddles.schemas.js';
import { checkPlace, checkThemes, pitchSettings, timesFrom } from './huddles.settings.js';
import { localToInstant } from './huddles.time.js';
import { calendarChanges, calendarDay, pitchOf, snapshot, type BookingsChoice, type HuddleChange } from './huddles.changes.js';
import { createHuddleCreator } from './huddles.create.js';
import { createHuddleQueries, isPublic, type ListQuery } from './huddles.queries.js';

export type { Huddle };
export { changedText, noticeOf, type BookingsChoice, type ChangedPart, type HuddleChange } from './huddles.changes.js';
export type { ListQuery };

/** The columns that decide who may see a huddle, and its row version. */
export type HuddleStamp = Pick<Huddle, 'id' | 'clusterId' | 'status' | 'cancelledAt' | 'version'>;

export type HuddlesService = ReturnType<typeof createHuddlesService>;

export function createHuddlesService(deps: { db: Db; clock: Clock; audit: AuditService; clusters: ClustersService; site: Site }) {
  const { db, clock, audit, clusters } = deps;
  const hooks = {
    /** A huddle was created or saved: inside its transaction, after the row is written. Handlers may refuse it by throwing. */
    changed: hook<[tx: DbOrTx, change: HuddleChange]>(),
  };

  const queries = createHuddleQueries({ db, clock });
  const creator = createHuddleCreator({ db, clock, audit, clusters, changed: hooks.changed });
  const byId = fastRows(
    db
      .select()
      .from(huddles)
      .where(eq(huddles.id, sql.placeholder('id')))
      .prepare(),
  );
  const stampById = db
    .select({
      id: huddles.id,
      clusterId: huddles.clusterId,
      status: huddles.status,
      cancelledAt: huddles.cancelledAt,
      version: huddles.version,
    })
    .from(huddles)
    .where(eq(huddles.id, sql.placeholder('id')))
    .prepare();
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

  /** Applies a patch to one huddle; returns the new row (not yet written). */
  function patched(current: Huddle, cluster: Cluster, body: HuddlePatchBody, startOverride?: Date): Huddle {
    if (current.status === 'cancelled') throw problem('HUDDLE_CANCELLED', 'A cancelled huddle cannot be changed');
    const timezone = body.timezone !== undefined ? checkTimeZone(body.timezone) : current.timezone;
    const durationMinutes = body.durationMinutes ?? Math.round((current.endsAt.getTime() - current.startsAt.getTime()) / 60_000);
    let startsAt = current.startsAt;
    if (startOverride) startsAt = startOverride;
    else if (body.start !== undefined) startsAt = timesFrom(body.start, timezone, durationMinutes, clock.now()).startsAt;
    const venue =
      body.venue !== undefined ? body.venue : current.venueName ? { name: current.venueName, address: current.venueAddress } : null;
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

  /** Writes a changed huddle (SEQUENCE, version, the cluster's feed version, audit) and announces it. */
  function save(tx: DbOrTx, change: { before: Huddle; after: Huddle; actor: Actor; action: string; bookings: BookingsChoice }): Huddle {
    const { before, after } = change;
    const changes = diff(snapshot(before), snapshot(after));
    if (Object.keys(changes.after).length === 0) return before;
    const changed = calendarChanges(before, after);
    const row = tx
      .update(huddles)
      .set({
        ...after,
        id: before.id,
        sequence: before.sequence + (changed.length > 0 ? 1 : 0),
        version: before.version + 1,
        updatedAt: clock.now(),
      })
      .where(eq(huddles.id, before.id))
      .returning()
      .get();
    clusters.bumpFeedVersion(tx, row.clusterId);
    audit.record(tx, change.actor, { clusterId: row.clusterId, action: change.action, targetType: 'huddle', targetId: row.id, ...changes });
    hooks.changed.emit(tx, { before, after: row, changed, bookings: change.bookings });
    return row;
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

  const service = {
    hooks,
    get,
    getOwned,

    /** The huddle with this id, or undefined (it may have been deleted since its id was read). */
    find(id: string): Huddle | undefined {
      return byId.get({ id });
    },

    /** What says who may see a huddle and whether a cached view of it is current, without reading the whole row. */
    stamp(id: string): HuddleStamp {
      const stamp = stampById.get({ id });
      if (!stamp) throw problem('HUDDLE_NOT_FOUND', `There is no huddle ${id}`);
      return stamp;
    },

    /**
     * Who is asking to see a huddle: an organiser of its own cluster, or the public, who see published
     * ones and those cancelled in the last 30 days. Anything else is "not found", so drafts never leak.
     */
    audience(huddle: HuddleStamp, principal: Principal | null): 'organiser' | 'public' {
      if (principal?.kind === 'organiser' && principal.clusterId === huddle.clusterId) return 'organiser';
      if (!isPublic(huddle, clock.now())) throw problem('HUDDLE_NOT_FOUND', `There is no huddle ${huddle.id}`);
      return 'public';
    },

    create: creator.create,
    createSeries: creator.createSeries,
    previewSeries: creator.previewSeries,

    /** Edits one huddle, or it and the following occurrences of its series (same wall-clock shift for each). */
    update(request: {
      huddleId: string;
      cluster: Cluster;
      body: HuddlePatchBody;
      scope: 'this' | 'following';
      actor: Actor;
      bookings: BookingsChoice;
    }): Huddle {
      const { cluster, body } = request;
      return immediate(db, (tx) => {
        const target = getOwned(request.huddleId, cluster.id);
        const first = patched(target, cluster, body);
        const oldLocal = DateTime.fromJSDate(target.startsAt, { zone: target.timezone });
        const newLocal = DateTime.fromJSDate(first.startsAt, { zone: first.timezone });
        const dayShift = Math.round((calendarDay(newLocal) - calendarDay(oldLocal)) / 86_400_000);
        let result = target;
        for (const occurrence of inScope(tx, target, request.scope)) {
          let startOverride: Date | undefined;
          if (occurrence.id !== target.id && body.start !== undefined) {
            // Same local time of day and the same day shift in each occurrence's own zone.
            const local = DateTime.fromJSDate(occurrence.startsAt, { zone: occurrence.timezone }).plus({ days: dayShift });
            const placed = localToInstant(
              { year: local.year, month: local.month, day: local.day, hour: newLocal.hour, minute: newLocal.minute },
              first.timezone,
            );
            // Moving one occurrence by the gap without a word would be a silent change: say so, as for a single huddle.
            if (placed.setZone(first.timezone).toFormat('HH:mm') !== newLocal.toFormat('HH:mm')) {
              const wanted = `${local.toISODate()}T${newLocal.toFormat('HH:mm')}`;
              throw problem(
                'NONEXISTENT_LOCAL_TIME',
                `${wanted} does not exist in ${first.timezone}: the clocks go forward then, so the occurrence on ${local.toISODate()} ` +
                  'cannot start at that time. Choose another time, or edit that occurrence on its own.',
                { errors: [{ field: 'body/start', message: `falls in a daylight-saving gap on ${local.toISODate()}` }] },
              );
            }
            startOverride = placed.toJSDate();
          }
          const next = occurrence.id === target.id ? first : patched(occurrence, cluster, body, startOverride);
          const saved = save(tx, {
            before: occurrence,
            after: next,
            actor: request.actor,
            action: 'huddle.updated',
            bookings: request.bookings,
          });
          if (occurrence.id === target.id) result = saved;
        }
        return result;
      });
    },

    cancel(request: { huddleId: string; cluster: Cluster; reason: string; scope: 'this' | 'following'; actor: Actor }): Huddle {
      return immediate(db, (tx) => {
        const target = getOwned(request.huddleId, request.cluster.id);
        if (target.status === 'cancelled') throw problem('HUDDLE_CANCELLED', 'This huddle is cancelled already');
        const now = clock.now();
        let result = target;
        for (const occurrence of inScope(tx, target, request.scope)) {
          if (occurrence.status === 'cancelled') continue;
          const after: Huddle = { ...occurrence, status: 'cancelled', cancelReason: request.reason.trim(), cancelledAt: now };
          const saved = save(tx, { before: occurrence, after, actor: request.actor, action: 'huddle.cancelled', bookings: 'refuse' });
          if (occurrence.id === target.id) result = saved;
        }
        return result;
      });
    },

    getMany: queries.getMany,
    withHuddles: queries.withHuddles,
    list: queries.list,
    upcomingPublic: queries.upcomingPublic,
    feedPage: queries.feedPage,
    publishedStartingBetween: queries.publishedStartingBetween,
    startsOf: queries.startsOf,
  };

  return service;
}
