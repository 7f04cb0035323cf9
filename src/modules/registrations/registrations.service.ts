// Attendance: members register for a huddle up to its capacity; beyond it they wait in line and are
// promoted in order when someone cancels. Each change is one IMMEDIATE transaction with its emails.
import { and, asc, eq, inArray, lt, or, sql } from 'drizzle-orm';
import { immediate, type Db, type DbOrTx } from '../../db/client.js';
import { registrations, type Cluster, type Huddle, type Member, type Registration } from '../../db/schema.js';
import { problem } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import { eventContext, renderCalendar, renderEvent, type CalendarMethod } from '../../shared/calendar.js';
import type { Site } from '../../shared/site.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import { changedText, noticeOf, type HuddlesService } from '../huddles/huddles.service.js';
import type { InvitationsService } from '../invitations/invitations.service.js';
import type { MembersService } from '../members/members.service.js';
import type { Outbox } from '../outbox/outbox.service.js';
import { createAttendance } from './registrations.attendance.js';
import { registrationEmail, type RegistrationEmailKind } from './registrations.render.js';

export type { Registration };
const ACTIVE = ['registered', 'waitlisted'] as const;

export type RegistrationsService = ReturnType<typeof createRegistrationsService>;

export function createRegistrationsService(deps: {
  db: Db;
  clock: Clock;
  audit: AuditService;
  outbox: Outbox;
  clusters: ClustersService;
  huddles: HuddlesService;
  members: MembersService;
  invitations: InvitationsService;
  site: Site;
}) {
  const { db, clock, audit, outbox, huddles, members } = deps;

  function waitingPosition(tx: DbOrTx, registration: Registration): number {
    return (
      tx
        .select({ n: sql<number>`count(*)` })
        .from(registrations)
        .where(
          and(
            eq(registrations.huddleId, registration.huddleId),
            eq(registrations.status, 'waitlisted'),
            // Line order: registered earlier, or at the same millisecond with a smaller (time-ordered) id.
            or(
              lt(registrations.createdAt, registration.createdAt),
              and(eq(registrations.createdAt, registration.createdAt), lt(registrations.id, registration.id)),
            ),
          ),
        )
        .get()!.n + 1
    );
  }

  /** Emails the member; a place carries the huddle as METHOD:REQUEST naming them, a cancellation as CANCEL. */
  function tell(tx: DbOrTx, message: { kind: RegistrationEmailKind; huddle: Huddle; cluster: Cluster; member: Member; position?: number }) {
    const { kind, huddle, cluster, member, position } = message;
    const email = registrationEmail(kind, {
      huddle,
      clusterName: cluster.name,
      memberName: member.name,
      ...(position ? { position } : {}),
    });
    const method: CalendarMethod | null = kind === 'registered' || kind === 'promoted' ? 'REQUEST' : kind === 'cancelled' ? 'CANCEL' : null;
    const calendar = method
      ? {
          method,
          content: renderCalendar({ name: cluster.name, method }, [
            renderEvent(huddle, eventContext(cluster, deps.site), {
              audience: 'private',
              stamp: clock.now(),
              attendee: { email: member.email, name: member.name },
              ...(kind === 'cancelled' ? { forceCancelled: true } : {}),
            }),
          ]),
        }
      : undefined;
    outbox.enqueue(tx, {
      kind: `registration.${kind}`,
      to: member.email,
      clusterId: cluster.id,
      ...email,
      ...(calendar ? { calendar } : {}),
    });
  }

  function registeredCount(tx: DbOrTx, huddleId: string): number {
    return tx
      .select({ n: sql<number>`count(*)` })
      .from(registrations)
      .where(and(eq(registrations.huddleId, huddleId), eq(registrations.status, 'registered')))
      .get()!.n;
  }

  /** The members registered (with a place) for a huddle. */
  function attendees(tx: DbOrTx, huddleId: string): Member[] {
    const rows = tx
      .select({ memberId: registrations.memberId })
      .from(registrations)
      .where(and(eq(registrations.huddleId, huddleId), eq(registrations.status, 'registered')))
      .orderBy(asc(registrations.createdAt), asc(registrations.id))
      .all();
    const people = members.getMany(
      tx,
      rows.map((row) => row.memberId),
    );
    return rows.map((row) => people.get(row.memberId)!);
  }

  /** Fills free places from the waiting line, in order. */
  function promote(tx: DbOrTx, huddle: Huddle, cluster: Cluster) {
    if (huddle.capacity === null) return;
    let free = huddle.capacity - registeredCount(tx, huddle.id);
    if (free <= 0) return;
    const waiting = tx
      .select()
      .from(registrations)
      .where(and(eq(registrations.huddleId, huddle.id), eq(registrations.status, 'waitlisted')))
      .orderBy(asc(registrations.createdAt), asc(registrations.id))
      .limit(free)
      .all();
    const people = members.getMany(
      tx,
      waiting.map((registration) => registration.memberId),
    );
    for (const registration of waiting) {
      if (free <= 0) break;
      tx.update(registrations).set({ status: 'registered', updatedAt: clock.now() }).where(eq(registrations.id, registration.id)).run();
      tell(tx, { kind: 'promoted', huddle, cluster, member: people.get(registration.memberId)! });
      audit.record(
        tx,
        { type: 'system', label: 'attendance waitlist' },
        { clusterId: cluster.id, action: 'registration.promoted', targetType: 'registration', targetId: registration.id },
      );
      free -= 1;
    }
  }

  function visibleHuddle(member: Member, huddleId: string): Huddle {
    const huddle = huddles.get(huddleId);
    if (huddle.clusterId !== member.clusterId || huddle.status === 'draft')
      throw problem('HUDDLE_NOT_FOUND', `There is no huddle ${huddleId}`);
    if (huddle.status === 'cancelled') throw problem('HUDDLE_CANCELLED', 'This huddle is cancelled');
    return huddle;
  }

  // People registered hear about a change of time, place or status (unless they were invited too: the
  // invitation's update told them already); a raised capacity lets people in from the waiting line.
  huddles.hooks.changed.on((tx, change) => {
    if (!change.before) return;
    const huddle = change.after;
    const notice = noticeOf(change);
    const cluster = deps.clusters.getById(huddle.clusterId);
    if (notice) {
      const invited = deps.invitations.invitedEmails(tx, huddle.id);
      for (const member of attendees(tx, huddle.id)) {
        if (invited.has(member.email)) continue;
        const email = registrationEmail(notice === 'cancelled' ? 'huddle-cancelled' : 'huddle-updated', {
          huddle,
          clusterName: cluster.name,
          memberName: member.name,
          changed: changedText(change.changed),
        });
        const method = notice === 'cancelled' ? 'CANCEL' : 'REQUEST';
        const content = renderCalendar({ name: cluster.name, method }, [
          renderEvent(huddle, eventContext(cluster, deps.site), {
            audience: 'private',
            stamp: clock.now(),
            attendee: { email: member.email, name: member.name },
          }),
        ]);
        outbox.enqueue(tx, {
          kind: `registration.huddle_${notice}`,
          to: member.email,
          clusterId: cluster.id,
          ...email,
          calendar: { method, content },
        });
      }
    }
    if (huddle.status === 'published') promote(tx, huddle, cluster);
  });

  return {
    attendees,
    /** Who came, as checked in at the door (the registrations module owns the attendance table). */
    attendance: createAttendance({ db, clock, audit }),

    /** Registers the member, or puts them on the waiting list when the huddle is at capacity. */
    register(member: Member, huddleId: string, actor: Actor): { registration: Registration; position: number | null; huddle: Huddle } {
      return immediate(db, (tx) => {
        const huddle = visibleHuddle(member, huddleId);
        if (huddle.endsAt <= clock.now()) throw problem('REGISTRATION_CLOSED', 'This huddle is over');
        const existing = tx
          .select()
          .from(registrations)
          .where(
            and(eq(registrations.huddleId, huddle.id), eq(registrations.memberId, member.id), inArray(registrations.status, [...ACTIVE])),
          )
          .get();
        if (existing) throw problem('ALREADY_REGISTERED', `You are ${existing.status} for this huddle already`);
        const full = huddle.capacity !== null && registeredCount(tx, huddle.id) >= huddle.capacity;
        const now = clock.now();
        const registration = tx
          .insert(registrations)
          .values({
            id: newId(),
            huddleId: huddle.id,
            memberId: member.id,
            status: full ? 'waitlisted' : 'registered',
            createdAt: now,
            updatedAt: now,
          })
          .returning()
          .get();
        const cluster = deps.clusters.getById(huddle.clusterId);
        const position = full ? waitingPosition(tx, registration) : null;
        tell(tx, { kind: full ? 'waitlisted' : 'registered', huddle, cluster, member, ...(position ? { position } : {}) });
        audit.record(tx, actor, {
          clusterId: cluster.id,
          action: 'registration.created',
          targetType: 'registration',
          targetId: registration.id,
          after: { status: registration.status },
        });
        return { registration, position, huddle };
      });
    },

    /** Cancels the member's registration (or waiting place); a freed place goes to the first waiting. */
    cancel(member: Member, huddleId: string, actor: Actor): Registration {
      return immediate(db, (tx) => {
        const huddle = huddles.get(huddleId);
        if (huddle.clusterId !== member.clusterId) throw problem('HUDDLE_NOT_FOUND', `There is no huddle ${huddleId}`);
        const existing = tx
          .select()
          .from(registrations)
          .where(
            and(eq(registrations.huddleId, huddle.id), eq(registrations.memberId, member.id), inArray(registrations.status, [...ACTIVE])),
          )
          .get();
        if (!existing) throw problem('NOT_REGISTERED', 'You are not registered for this huddle');
        const now = clock.now();
        const cancelled = tx
          .update(registrations)
          .set({ status: 'cancelled', cancelledAt: now, updatedAt: now })
          .where(eq(registrations.id, existing.id))
          .returning()
          .get()!;
        const cluster = deps.clusters.getById(huddle.clusterId);
        if (existing.status === 'registered') tell(tx, { kind: 'cancelled', huddle, cluster, member });
        audit.record(tx, actor, {
          clusterId: cluster.id,
          action: 'registration.cancelled',
          targetType: 'registration',
          targetId: existing.id,
          before: { status: existing.status },
        });
        if (existing.status === 'registered' && huddle.status === 'published' && huddle.startsAt > now) promote(tx, huddle, cluster);
        return cancelled;
      });
    },

    /** A huddle's audience for its organisers, in registration order. */
    /** Places still free at a huddle with a capacity (0 when full), or null when it has none. */
    placesLeft(huddle: Pick<Huddle, 'id' | 'capacity'>): number | null {
      if (huddle.capacity === null) return null;
      return Math.max(0, huddle.capacity - registeredCount(db, huddle.id));
    },

    /** For each huddle: how many have a place and how many wait for one (the console's dashboard). */
    tally(huddleIds: string[]): Map<string, { registered: number; waitlisted: number }> {
      const tallies = new Map(huddleIds.map((id) => [id, { registered: 0, waitlisted: 0 }]));
      if (huddleIds.length === 0) return tallies;
      for (const row of db
        .select({ huddleId: registrations.huddleId, status: registrations.status, count: sql<number>`count(*)` })
        .from(registrations)
        .where(inArray(registrations.huddleId, huddleIds))
        .groupBy(registrations.huddleId, registrations.status)
        .all()) {
        if (row.status !== 'cancelled') tallies.get(row.huddleId)![row.status] = row.count;
      }
      return tallies;
    },

    forHuddle(huddleId: string) {
      const rows = db
        .select()
        .from(registrations)
        .where(eq(registrations.huddleId, huddleId))
        .orderBy(asc(registrations.createdAt), asc(registrations.id))
        .all();
      const people = members.getMany(
        db,
        rows.map((registration) => registration.memberId),
      );
      return rows.map((registration) => ({ registration, member: people.get(registration.memberId)! }));
    },

    /** The member's active registrations with their huddles, soonest first (for /v1/me and the private feed). */
    forMember(memberId: string) {
      return immediate(db, (tx) => {
        const rows = tx
          .select()
          .from(registrations)
          .where(and(eq(registrations.memberId, memberId), inArray(registrations.status, [...ACTIVE])))
          .all();
        return huddles.withHuddles(tx, rows).map(({ row: registration, huddle }) => ({
          registration,
          huddle,
          position: registration.status === 'waitlisted' ? waitingPosition(tx, registration) : null,
        }));
      });
    },
  };
}
