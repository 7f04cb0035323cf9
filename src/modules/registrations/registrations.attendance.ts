// Who came: organisers check people in at the door (a registered attendee, a pitcher, or a member who
// walked in), one tap each, and can undo a tap. The impact report counts only what was recorded here.
import { and, eq, inArray } from 'drizzle-orm';
import { immediate, type Db } from '../../db/client.js';
import { attendance, type Attendance, type Huddle, type Member } from '../../db/schema.js';
import { problem } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import type { Actor, AuditService } from '../audit/audit.service.js';

export type AttendanceBook = ReturnType<typeof createAttendance>;

/** People can be checked in from this long before a huddle starts (the door list is ready the day before). */
export const CHECK_IN_OPENS_MS = 86_400_000;

export function createAttendance(deps: { db: Db; clock: Clock; audit: AuditService }) {
  const { db, clock, audit } = deps;

  /** Only a published huddle's people are checked in, from the day before it starts, and only members of its own cluster. */
  function mayCheckIn(huddle: Huddle, member: Member): void {
    if (huddle.status !== 'published') throw problem('HUDDLE_NOT_PUBLISHED', 'Only a published huddle has people to check in');
    if (clock.now().getTime() < huddle.startsAt.getTime() - CHECK_IN_OPENS_MS) {
      throw problem('CHECK_IN_NOT_OPEN', 'Check-in opens a day before the huddle starts');
    }
    if (member.clusterId !== huddle.clusterId) throw problem('MEMBER_NOT_FOUND', 'No such member in this cluster');
  }

  return {
    /** Records that the member came (again: nothing changes). Returns whether this tap recorded it. */
    checkIn(huddle: Huddle, member: Member, actor: Actor): boolean {
      mayCheckIn(huddle, member);
      return immediate(db, (tx) => {
        const added = tx
          .insert(attendance)
          .values({ id: newId(), huddleId: huddle.id, memberId: member.id, checkedInAt: clock.now(), checkedInBy: actor.label ?? null })
          .onConflictDoNothing({ target: [attendance.huddleId, attendance.memberId] })
          .run();
        if (added.changes === 0) return false;
        audit.record(tx, actor, {
          clusterId: huddle.clusterId,
          action: 'attendance.checked_in',
          targetType: 'huddle',
          targetId: huddle.id,
          after: { member: member.id },
        });
        return true;
      });
    },

    /** Takes back a check-in made by mistake. Returns whether there was one. */
    undo(huddle: Huddle, member: Member, actor: Actor): boolean {
      mayCheckIn(huddle, member);
      return immediate(db, (tx) => {
        const removed = tx
          .delete(attendance)
          .where(and(eq(attendance.huddleId, huddle.id), eq(attendance.memberId, member.id)))
          .run();
        if (removed.changes === 0) return false;
        audit.record(tx, actor, {
          clusterId: huddle.clusterId,
          action: 'attendance.undone',
          targetType: 'huddle',
          targetId: huddle.id,
          before: { member: member.id },
        });
        return true;
      });
    },

    /** The check-ins of these huddles. */
    inHuddles(huddleIds: string[]): Attendance[] {
      if (huddleIds.length === 0) return [];
      return db.select().from(attendance).where(inArray(attendance.huddleId, huddleIds)).all();
    },
  };
}
