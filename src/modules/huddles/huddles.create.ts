// New huddles: one, or every occurrence of a series (expanded in the huddle's own zone), each checked
// against the cluster's themes and pitch rules, announced on hooks.changed (its slots are laid out
// there) and recorded in the audit log, in one transaction.
import { immediate, type Db, type DbOrTx } from '../../db/client.js';
import { huddleSeries, huddles, type Cluster, type Huddle } from '../../db/schema.js';
import type { Clock } from '../../lib/clock.js';
import type { Hook } from '../../lib/hooks.js';
import { newId } from '../../lib/ids.js';
import { checkTimeZone } from '../../lib/text.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import { snapshot, type HuddleChange } from './huddles.changes.js';
import { expandRule } from './huddles.recurrence.js';
import type { HuddleCreateBody, SeriesCreateBody } from './huddles.schemas.js';
import { checkPlace, checkThemes, defaultPitchSettings, pitchSettings, timesFrom } from './huddles.settings.js';

export function createHuddleCreator(deps: {
  db: Db;
  clock: Clock;
  audit: AuditService;
  clusters: ClustersService;
  changed: Hook<[tx: DbOrTx, change: HuddleChange]>;
}) {
  const { db, clock, audit, clusters } = deps;

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
      ...pitchSettings(body.pitch, defaultPitchSettings(cluster.bookingPolicy), body.durationMinutes, { fromDefaults: true }),
    };
  }

  function insertHuddle(
    tx: DbOrTx,
    row: {
      fields: ReturnType<typeof newHuddleFields>;
      startsAt: Date;
      endsAt: Date;
      status: 'draft' | 'published';
      seriesId: string | null;
    },
  ) {
    const now = clock.now();
    const { fields, startsAt, endsAt, status, seriesId } = row;
    const huddle = tx
      .insert(huddles)
      .values({ id: newId(), ...fields, startsAt, endsAt, seriesId, status, sequence: 0, createdAt: now, updatedAt: now })
      .returning()
      .get();
    deps.changed.emit(tx, { before: null, after: huddle, changed: [], bookings: 'refuse' });
    return huddle;
  }

  return {
    create(cluster: Cluster, body: HuddleCreateBody, actor: Actor): Huddle {
      const fields = newHuddleFields(cluster, body);
      const times = timesFrom(body.start, fields.timezone, body.durationMinutes, clock.now());
      return immediate(db, (tx) => {
        const row = insertHuddle(tx, {
          fields,
          startsAt: times.startsAt,
          endsAt: times.endsAt,
          status: body.status ?? 'draft',
          seriesId: null,
        });
        clusters.bumpFeedVersion(tx, cluster.id);
        audit.record(tx, actor, {
          clusterId: cluster.id,
          action: 'huddle.created',
          targetType: 'huddle',
          targetId: row.id,
          after: snapshot(row),
        });
        return row;
      });
    },

    /**
     * What createSeries would make, without making it: every occurrence's start, and each one the rule
     * asked for that was moved by a clock change or left out. The same checks refuse the same bodies.
     */
    previewSeries(cluster: Cluster, body: SeriesCreateBody) {
      const fields = newHuddleFields(cluster, body.template);
      const first = timesFrom(body.template.start, fields.timezone, body.template.durationMinutes, clock.now());
      const { starts, adjustments } = expandRule(body.rrule, first.start, fields.timezone);
      return { timezone: fields.timezone, starts: starts.map((start) => start.toJSDate()), adjustments };
    },

    createSeries(cluster: Cluster, body: SeriesCreateBody, actor: Actor) {
      const fields = newHuddleFields(cluster, body.template);
      const first = timesFrom(body.template.start, fields.timezone, body.template.durationMinutes, clock.now());
      const { starts, adjustments } = expandRule(body.rrule, first.start, fields.timezone);
      const durationMs = body.template.durationMinutes * 60_000;
      return immediate(db, (tx) => {
        const series = tx
          .insert(huddleSeries)
          .values({
            id: newId(),
            clusterId: cluster.id,
            rrule: body.rrule
              .trim()
              .replace(/^RRULE:/i, '')
              .toUpperCase(),
            timezone: fields.timezone,
            createdAt: clock.now(),
          })
          .returning()
          .get();
        const rows = starts.map((start) => {
          const startsAt = start.toJSDate();
          return insertHuddle(tx, {
            fields,
            startsAt,
            endsAt: new Date(startsAt.getTime() + durationMs),
            status: body.status ?? 'draft',
            seriesId: series.id,
          });
        });
        clusters.bumpFeedVersion(tx, cluster.id);
        audit.record(tx, actor, {
          clusterId: cluster.id,
          action: 'series.created',
          targetType: 'series',
          targetId: series.id,
          after: {
            rrule: series.rrule,
            timezone: series.timezone,
            occurrences: rows.length,
            title: fields.title,
            adjustments: adjustments.length,
          },
        });
        return { series, huddles: rows, adjustments };
      });
    },
  };
}
