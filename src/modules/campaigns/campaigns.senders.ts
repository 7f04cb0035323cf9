// Which processes send scheduled campaigns now: a server's scheduler says so every HEARTBEAT_MS, and
// `newsletter send` hands its campaign to a live one instead of sending from a second process (whose
// write transactions would make the server's requests wait for SQLite's lock on the event loop).
import { eq, lt } from 'drizzle-orm';
import { immediate, type Db } from '../../db/client.js';
import { campaignSenders } from '../../db/schema.js';
import type { Clock } from '../../lib/clock.js';
import { hasStopped, thisProcess } from '../../lib/processes.js';

/** A sender silent for this long has stopped (the same lease as a campaign's sender). */
export function createSenders(deps: { db: Db; clock: Clock; leaseMs: number }) {
  const { db, clock, leaseMs } = deps;
  return {
    /** This process sends scheduled campaigns, and still does; rows of senders long gone are cleared. */
    announce(): void {
      const now = clock.now();
      immediate(db, (tx) => {
        tx.delete(campaignSenders)
          .where(lt(campaignSenders.heartbeatAt, new Date(now.getTime() - 10 * leaseMs)))
          .run();
        tx.insert(campaignSenders)
          .values({ process: thisProcess, startedAt: now, heartbeatAt: now })
          .onConflictDoUpdate({ target: campaignSenders.process, set: { heartbeatAt: now } })
          .run();
      });
    },

    /** This process no longer sends scheduled campaigns (it is shutting down). */
    withdraw(): void {
      immediate(db, (tx) => tx.delete(campaignSenders).where(eq(campaignSenders.process, thisProcess)).run());
    },

    /** A process sending scheduled campaigns now (heard of within the lease and not known to have exited), if any. */
    live(): string | undefined {
      const since = clock.now().getTime() - leaseMs;
      return db
        .select()
        .from(campaignSenders)
        .all()
        .find((row) => row.heartbeatAt.getTime() >= since && !hasStopped(row.process))?.process;
    },
  };
}
