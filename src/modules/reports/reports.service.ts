// The impact report funders ask for: over the published huddles of a date range, how many organisations
// engaged (pitched, or came as checked in) by type, how many pitched here for the first time, who came
// more than once, attendance against registration, and pitches by theme. It owns no table: it reads
// through the services that do, and counts only what was recorded (attendance is the door's check-ins).
import { DateTime } from 'luxon';
import { ORGANISATION_TYPES, type Cluster, type Huddle, type OrganisationType } from '../../db/schema.js';
import { problem } from '../../errors.js';
import { organisationKey } from '../bookings/bookings.rules.js';
import type { BookingsService } from '../bookings/bookings.service.js';
import type { HuddlesService } from '../huddles/huddles.service.js';
import type { MembersService } from '../members/members.service.js';
import type { RegistrationsService } from '../registrations/registrations.service.js';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';

/** A report covers at most this many days (a year and a bit: four quarters side by side). */
export const MAX_REPORT_DAYS = 400;

export interface ImpactReport {
  cluster: string;
  /** The first and last day covered, in the cluster's zone (YYYY-MM-DD), and the zone. */
  from: string;
  to: string;
  timezone: string;
  /** Published huddles of the range that have started by now (one still to come counts nowhere yet). */
  huddles: number;
  organisations: { engaged: number; byType: Record<OrganisationType, number> };
  /** Organisations whose first confirmed pitch at this cluster was in the range. */
  firstTimePitchers: number;
  pitches: { confirmed: number; byTheme: { theme: string | null; count: number }[] };
  attendance: {
    /** Places held by registered people (waiting lists aside). */
    registered: number;
    /** Everyone checked in: registered or not. */
    attended: number;
    /** Registered and checked in. */
    registeredAttended: number;
    /** Registered and not checked in. */
    noShows: number;
    /** Checked in without a registration (pitchers, walk-ins). */
    unregisteredAttended: number;
    /** People checked in at more than one huddle of the range, and everyone checked in at least once. */
    repeatPeople: number;
    people: number;
  };
  perHuddle: { id: string; title: string; start: string; registered: number; attended: number; pitches: number }[];
}

export type ReportsService = ReturnType<typeof createReportsService>;

export function createReportsService(deps: {
  db: Db;
  clock: Clock;
  huddles: HuddlesService;
  bookings: BookingsService;
  registrations: RegistrationsService;
  members: MembersService;
}) {
  const { huddles, bookings, registrations, members } = deps;

  /** Every huddle of the cluster starting in [from, to), drafts and cancelled ones included. */
  function huddlesBetween(clusterId: string, from: Date, to: Date): Huddle[] {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = huddles.list(
        clusterId,
        { from: from.toISOString(), to: to.toISOString(), limit: 100, ...(cursor ? { cursor } : {}) },
        'organiser',
      );
      ids.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const found = huddles.getMany(deps.db, ids);
    return ids.map((id) => found.get(id)!).filter(Boolean);
  }

  /** The days as the instants they start and end in the cluster's zone; refused when not days or too long. */
  function range(cluster: Cluster, fromDay: string, toDay: string): { from: Date; to: Date } {
    const from = DateTime.fromISO(fromDay, { zone: cluster.timezone });
    const last = DateTime.fromISO(toDay, { zone: cluster.timezone });
    if (!/^\d{4}-\d\d-\d\d$/.test(fromDay) || !/^\d{4}-\d\d-\d\d$/.test(toDay) || !from.isValid || !last.isValid) {
      throw problem('VALIDATION_FAILED', 'from and to are days, like 2026-10-01', {
        errors: [{ field: 'querystring/from', message: 'is not a day (YYYY-MM-DD)' }],
      });
    }
    const to = last.plus({ days: 1 });
    const days = to.diff(from, 'days').days;
    if (days < 1 || days > MAX_REPORT_DAYS) {
      throw problem('VALIDATION_FAILED', `to must be on or after from, and the range at most ${MAX_REPORT_DAYS} days`, {
        errors: [{ field: 'querystring/to', message: 'is before from, or too far from it' }],
      });
    }
    return { from: from.toJSDate(), to: to.toJSDate() };
  }

  return {
    range,

    /** The days a report covers when none are given: this quarter so far, in the cluster's zone. */
    thisQuarter(cluster: Cluster): { from: string; to: string } {
      const today = DateTime.fromJSDate(deps.clock.now(), { zone: cluster.timezone });
      return { from: today.startOf('quarter').toFormat('yyyy-MM-dd'), to: today.toFormat('yyyy-MM-dd') };
    },

    impact(cluster: Cluster, fromDay: string, toDay: string): ImpactReport {
      const { from, to } = range(cluster, fromDay, toDay);
      // Held: published and started by now (a huddle still to come has no attendance and no no-shows yet).
      const now = deps.clock.now();
      const held = huddlesBetween(cluster.id, from, to).filter((huddle) => huddle.status === 'published' && huddle.startsAt <= now);
      const ids = held.map((huddle) => huddle.id);
      const checkIns = registrations.attendance.inHuddles(ids);
      const pitchesOf = new Map(held.map((huddle) => [huddle.id, bookings.forHuddle(huddle.id, 'confirmed')]));
      const registeredOf = new Map(
        held.map((huddle) => [
          huddle.id,
          registrations.forHuddle(huddle.id).filter(({ registration }) => registration.status === 'registered'),
        ]),
      );
      const people = members.getMany(
        deps.db,
        checkIns.map((row) => row.memberId),
      );

      // Engaged organisations: those that pitched (by the organisation their pitch was booked for), and
      // those of anyone who came. An organisation's type is its pitcher's, else the one most of its
      // people who came gave (ties in the order of ORGANISATION_TYPES), whatever order the rows come in.
      const pitcherType = new Map<string, OrganisationType>();
      for (const rows of pitchesOf.values()) {
        for (const { booking, member } of rows)
          if (!pitcherType.has(booking.organisationKey)) pitcherType.set(booking.organisationKey, member.organisationType);
      }
      const cameTypes = new Map<string, Map<OrganisationType, number>>();
      for (const row of checkIns) {
        const member = people.get(row.memberId);
        if (!member) continue;
        const key = organisationKey(member.organisation);
        const counts = cameTypes.get(key) ?? new Map<OrganisationType, number>();
        counts.set(member.organisationType, (counts.get(member.organisationType) ?? 0) + 1);
        cameTypes.set(key, counts);
      }
      const typeOf = (key: string): OrganisationType => {
        const pitched = pitcherType.get(key);
        if (pitched) return pitched;
        const counts = cameTypes.get(key)!;
        return ORGANISATION_TYPES.reduce((best, type) => ((counts.get(type) ?? 0) > (counts.get(best) ?? 0) ? type : best));
      };
      const engaged = new Set([...pitcherType.keys(), ...cameTypes.keys()]);
      const byType = Object.fromEntries(ORGANISATION_TYPES.map((type) => [type, 0])) as Record<OrganisationType, number>;
      for (const key of engaged) byType[typeOf(key)] += 1;

      // First-time pitchers: pitched in the range, never at a huddle of this cluster before it.
      const earlier = huddlesBetween(cluster.id, new Date(0), from).filter((huddle) => huddle.status !== 'draft');
      const pitchedBefore = bookings.pitchingOrganisations(earlier.map((huddle) => huddle.id));
      const firstTimePitchers = [...pitcherType.keys()].filter((key) => !pitchedBefore.has(key)).length;

      const themes = new Map<string | null, number>();
      for (const rows of pitchesOf.values())
        for (const { booking } of rows) themes.set(booking.theme, (themes.get(booking.theme) ?? 0) + 1);

      const cameTo = new Map<string, Set<string>>();
      for (const row of checkIns) cameTo.set(row.huddleId, (cameTo.get(row.huddleId) ?? new Set()).add(row.memberId));
      let registered = 0;
      let registeredAttended = 0;
      for (const [huddleId, rows] of registeredOf) {
        registered += rows.length;
        registeredAttended += rows.filter(({ member }) => cameTo.get(huddleId)?.has(member.id)).length;
      }
      const visits = new Map<string, number>();
      for (const row of checkIns) visits.set(row.memberId, (visits.get(row.memberId) ?? 0) + 1);
      const day = (at: Date) => DateTime.fromJSDate(at, { zone: cluster.timezone }).toFormat('yyyy-MM-dd');

      return {
        cluster: cluster.slug,
        from: fromDay,
        to: toDay,
        timezone: cluster.timezone,
        huddles: held.length,
        organisations: { engaged: engaged.size, byType },
        firstTimePitchers,
        pitches: {
          confirmed: [...pitchesOf.values()].reduce((sum, rows) => sum + rows.length, 0),
          byTheme: [...themes]
            .map(([theme, count]) => ({ theme, count }))
            .sort((a, b) => b.count - a.count || String(a.theme).localeCompare(String(b.theme))),
        },
        attendance: {
          registered,
          attended: checkIns.length,
          registeredAttended,
          noShows: registered - registeredAttended,
          unregisteredAttended: checkIns.length - registeredAttended,
          repeatPeople: [...visits.values()].filter((count) => count > 1).length,
          people: visits.size,
        },
        perHuddle: held.map((huddle) => ({
          id: huddle.id,
          title: huddle.title,
          start: day(huddle.startsAt),
          registered: registeredOf.get(huddle.id)!.length,
          attended: cameTo.get(huddle.id)?.size ?? 0,
          pitches: pitchesOf.get(huddle.id)!.length,
        })),
      };
    },
  };
}
