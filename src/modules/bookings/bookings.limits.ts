// The organisation limits, read inside the booking's transaction: pitches per organisation per huddle,
// and the cluster's rolling limit over any window of days (a pending pitch counts as much as a confirmed one).
import { and, eq, ne, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client.js';
import { fastRows } from '../../db/rows.js';
import { activeBooking as active, bookings, type Cluster, type Huddle } from '../../db/schema.js';
import { problem } from '../../errors.js';
import type { HuddlesService } from '../huddles/huddles.service.js';
import { exceedsRollingLimit } from './bookings.rules.js';

export interface LimitCheck {
  /** Only its id and policy are read (a booking reads just those: clusters.policyOf). */
  cluster: Pick<Cluster, 'id' | 'bookingPolicy'>;
  huddle: Huddle;
  orgKey: string;
  /** A booking being approved does not count against itself. */
  excludeBookingId?: string;
}

export function createLimits(deps: { db: Db; huddles: HuddlesService }) {
  // A burst of requests for one huddle runs this again and again: prepared once, on the connection
  // every transaction uses, so it runs inside the caller's.
  const organisationCount = fastRows(
    deps.db
      .select({ n: sql<number>`count(*)` })
      .from(bookings)
      .where(and(eq(bookings.huddleId, sql.placeholder('huddleId')), eq(bookings.organisationKey, sql.placeholder('orgKey')), active))
      .prepare(),
  );

  return {
    /** Whether this organisation holds a pending or confirmed pitch at the huddle. */
    organisationPitches(_tx: DbOrTx, huddleId: string, orgKey: string): boolean {
      return organisationCount.get({ huddleId, orgKey })!.n > 0;
    },

    /** Refuses one more pitch for the organisation at this huddle when a limit would be passed (BOOKING_LIMIT_REACHED). */
    check(tx: DbOrTx, request: LimitCheck): void {
      const { cluster, huddle, orgKey, excludeBookingId } = request;
      const exclude = excludeBookingId ? [ne(bookings.id, excludeBookingId)] : [];
      const here = excludeBookingId
        ? tx
            .select({ n: sql<number>`count(*)` })
            .from(bookings)
            .where(and(eq(bookings.huddleId, huddle.id), eq(bookings.organisationKey, orgKey), active, ...exclude))
            .get()!.n
        : organisationCount.get({ huddleId: huddle.id, orgKey })!.n;
      const perHuddle = cluster.bookingPolicy.pitchesPerOrganisationPerHuddle;
      if (here >= perHuddle) {
        throw problem(
          'BOOKING_LIMIT_REACHED',
          `Your organisation has ${here} active pitch${here === 1 ? '' : 'es'} at this huddle; the limit is ${perHuddle}`,
        );
      }
      const rolling = cluster.bookingPolicy.rollingLimit;
      if (!rolling) return;
      const span = rolling.days * 86_400_000;
      const theirs = tx
        .select({ huddleId: bookings.huddleId })
        .from(bookings)
        .where(and(eq(bookings.organisationKey, orgKey), active, ...exclude))
        .all();
      const starts = deps.huddles.startsOf(
        tx,
        cluster.id,
        theirs.map((row) => row.huddleId),
      );
      const others = theirs
        .map((row) => starts.get(row.huddleId))
        .filter((start): start is Date => start !== undefined && Math.abs(start.getTime() - huddle.startsAt.getTime()) < span);
      if (exceedsRollingLimit(others, huddle.startsAt, rolling)) {
        throw problem('BOOKING_LIMIT_REACHED', `Your organisation may pitch at most ${rolling.max} times in any ${rolling.days} days`);
      }
    },
  };
}
