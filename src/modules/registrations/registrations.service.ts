// Attendance: members register for a huddle up to its capacity; beyond it they wait in line and are
// promoted in order when someone cancels. Each change is one IMMEDIATE transaction with its emails.
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { immediate, type Db, type DbOrTx } from '../../db/client.js';
import { huddles, invitations, members, registrations } from '../../db/schema.js';
import { problem } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { Cluster, ClustersService } from '../clusters/clusters.service.js';
import { eventContext } from '../feeds/feeds.service.js';
import { renderCalendar, renderEvent, type CalendarMethod } from '../feeds/feeds.render.js';
import type { HuddleChange } from '../huddles/huddles.service.js';
import type { Huddle } from '../huddles/huddles.view.js';
import type { Member } from '../members/members.service.js';
import type { Outbox } from '../outbox/outbox.service.js';
import { registrationEmail, type RegistrationEmailKind } from './registrations.render.js';

export type Registration = typeof registrations.$inferSelect;
const ACTIVE = ['registered', 'waitlisted'] as const;

export type RegistrationsService = ReturnType<typeof createRegistrationsService>;

export function createRegistrationsService(deps: { db: Db; clock: Clock; audit: AuditService; outbox: Outbox; clusters: ClustersService; baseUrl: string; mailFrom: string }) {
  const { db, clock, audit, outbox } = deps;

  function waitingPosition(tx: DbOrTx, registration: Registration): number {
    return (
      tx
        .select({ n: sql<number>`count(*)` })
        .from(registrations)
        .where(
          and(
            eq(registrations.huddleId, registration.huddleId),
            eq(registrations.status, 'waitlisted'),
            sql`(${registrations.createdAt} < ${registration.createdAt.getTime()} OR (${registrations.createdAt} = ${registration.createdAt.getTime()} AND ${registrations.id} < ${registration.id}))`,
          ),
        )
        .get()!.n + 1
    );
  }

  /** Emails the member; a place carries the huddle as METHOD:REQUEST naming them, a cancellation as CANCEL. */
  function tell(tx: DbOrTx, kind: RegistrationEmailKind, huddle: Huddle, cluster: Cluster, member: Member, position?: number) {
    const email = registrationEmail(kind, { huddle, clusterName: cluster.name, memberName: member.name, ...(position ? { position } : {}) });
    const method: CalendarMethod | null = kind === 'registered' || kind === 'promoted' ? 'REQUEST' : kind === 'cancelled' ? 'CANCEL' : null;
    const calendar = method
      ? {
          method,
          content: renderCalendar({ name: cluster.name, method }, [
            renderEvent(huddle, eventContext(cluster, deps.baseUrl, deps.mailFrom), {
              audience: 'private',
              stamp: clock.now(),
              attendee: { email: member.email, name: member.name },
              ...(kind === 'cancelled' ? { forceCancelled: true } : {}),
            }),
          ]),
        }
      : undefined;
    outbox.enqueue(tx, { kind: `registration.${kind}`, to: member.email, clusterId: cluster.id, ...email, ...(calendar ? { calendar } : {}) });
  }

  function registeredCount(tx: DbOrTx, huddleId: string): number {
    return tx.select({ n: sql<number>`count(*)` }).from(registrations).where(and(eq(registrations.huddleId, huddleId), eq(registrations.status, 'registered'))).get()!.n;
  }

  /** Fills free places from the waiting line, in order. */
  function promote(tx: DbOrTx, huddle: Huddle, cluster: Cluster) {
    if (huddle.capacity === null) return;
    let free = huddle.capacity - registeredCount(tx, huddle.id);
    if (free <= 0) return;
    const waiting = tx
      .select({ registration: registrations, member: members })
      .from(registrations)
      .innerJoin(members, eq(members.id, registrations.memberId))
      .where(and(eq(registrations.huddleId, huddle.id), eq(registrations.status, 'waitlisted')))
      .orderBy(asc(registrations.createdAt), asc(registrations.id))
      .all();
    for (const { registration, member } of waiting) {
      if (free <= 0) break;
      tx.update(registrations).set({ status: 'registered', updatedAt: clock.now() }).where(eq(registrations.id, registration.id)).run();
      tell(tx, 'promoted', huddle, cluster, member);
      audit.record(tx, { type: 'system', label: 'attendance waitlist' }, { clusterId: cluster.id, action: 'registration.promoted', targetType: 'registration', targetId: registration.id });
      free -= 1;
    }
  }

  function visibleHuddle(tx: DbOrTx, member: Member, huddleId: string): Huddle {
    const huddle = tx.select().from(huddles).where(eq(huddles.id, huddleId)).get();
    if (!huddle || huddle.clusterId !== member.clusterId || huddle.status === 'draft') throw problem('HUDDLE_NOT_FOUND', `There is no huddle ${huddleId}`);
    if (huddle.status === 'cancelled') throw problem('HUDDLE_CANCELLED', 'This huddle is cancelled');
    return huddle;
  }

  return {
    /** Registers the member, or puts them on the waiting list when the huddle is at capacity. */
    register(member: Member, huddleId: string, actor: Actor): { registration: Registration; position: number | null; huddle: Huddle } {
      return immediate(db, (tx) => {
        const huddle = visibleHuddle(tx, member, huddleId);
        if (huddle.endsAt <= clock.now()) throw problem('REGISTRATION_CLOSED', 'This huddle is over');
        const existing = tx
          .select()
          .from(registrations)
          .where(and(eq(registrations.huddleId, huddle.id), eq(registrations.memberId, member.id), inArray(registrations.status, [...ACTIVE])))
          .get();
        if (existing) throw problem('ALREADY_REGISTERED', `You are ${existing.status} for this huddle already`);
        const full = huddle.capacity !== null && registeredCount(tx, huddle.id) >= huddle.capacity;
        const now = clock.now();
        const registration = tx
          .insert(registrations)
          .values({ id: newId(), huddleId: huddle.id, memberId: member.id, status: full ? 'waitlisted' : 'registered', createdAt: now, updatedAt: now })
          .returning()
          .get();
        const cluster = deps.clusters.getById(huddle.clusterId);
        const position = full ? waitingPosition(tx, registration) : null;
        tell(tx, full ? 'waitlisted' : 'registered', huddle, cluster, member, position ?? undefined);
        audit.record(tx, actor, { clusterId: cluster.id, action: 'registration.created', targetType: 'registration', targetId: registration.id, after: { status: registration.status } });
        return { registration, position, huddle };
      });
    },

    /** Cancels the member's registration (or waiting place); a freed place goes to the first waiting. */
    cancel(member: Member, huddleId: string, actor: Actor): Registration {
      return immediate(db, (tx) => {
        const huddle = tx.select().from(huddles).where(eq(huddles.id, huddleId)).get();
        if (!huddle || huddle.clusterId !== member.clusterId) throw problem('HUDDLE_NOT_FOUND', `There is no huddle ${huddleId}`);
        const existing = tx
          .select()
          .from(registrations)
          .where(and(eq(registrations.huddleId, huddle.id), eq(registrations.memberId, member.id), inArray(registrations.status, [...ACTIVE])))
          .get();
        if (!existing) throw problem('NOT_REGISTERED', 'You are not registered for this huddle');
        const now = clock.now();
        const cancelled = tx.update(registrations).set({ status: 'cancelled', cancelledAt: now, updatedAt: now }).where(eq(registrations.id, existing.id)).returning().get()!;
        const cluster = deps.clusters.getById(huddle.clusterId);
        if (existing.status === 'registered') tell(tx, 'cancelled', huddle, cluster, member);
        audit.record(tx, actor, { clusterId: cluster.id, action: 'registration.cancelled', targetType: 'registration', targetId: existing.id, before: { status: existing.status } });
        if (existing.status === 'registered' && huddle.status === 'published' && huddle.startsAt > now) promote(tx, huddle, cluster);
        return cancelled;
      });
    },

    /** A huddle's audience for its organisers, in registration order. */
    forHuddle(huddleId: string) {
      return db
        .select({ registration: registrations, member: members })
        .from(registrations)
        .innerJoin(members, eq(members.id, registrations.memberId))
        .where(eq(registrations.huddleId, huddleId))
        .orderBy(asc(registrations.createdAt), asc(registrations.id))
        .all();
    },

    /** The member's active registrations with their huddles (for /v1/me, the private feed and reminders). */
    forMember(memberId: string) {
      return immediate(db, (tx) =>
        tx
          .select({ registration: registrations, huddle: huddles })
          .from(registrations)
          .innerJoin(huddles, eq(huddles.id, registrations.huddleId))
          .where(and(eq(registrations.memberId, memberId), inArray(registrations.status, [...ACTIVE])))
          .orderBy(asc(huddles.startsAt))
          .all()
          .map((row) => ({ ...row, position: row.registration.status === 'waitlisted' ? waitingPosition(tx, row.registration) : null })),
      );
    },

    /**
     * Huddle listener: registered members hear about changes of time, place or status (unless they
     * were invited too, in which case the invitation's update already told them), and a raised
     * capacity promotes people from the waiting line.
     */
    onHuddleChanged(tx: DbOrTx, huddle: Huddle, change: HuddleChange): void {
      if (change === 'slots-moved') return;
      const cluster = deps.clusters.getById(huddle.clusterId);
      const invited = new Set(tx.select({ email: invitations.email }).from(invitations).where(eq(invitations.huddleId, huddle.id)).all().map((row) => row.email));
      const audience = tx
        .select({ member: members })
        .from(registrations)
        .innerJoin(members, eq(members.id, registrations.memberId))
        .where(and(eq(registrations.huddleId, huddle.id), eq(registrations.status, 'registered')))
        .all();
      for (const { member } of audience) {
        if (invited.has(member.email)) continue;
        const email = registrationEmail(change === 'cancelled' ? 'cancelled' : 'registered', { huddle, clusterName: cluster.name, memberName: member.name });
        const method = change === 'cancelled' ? 'CANCEL' : 'REQUEST';
        const content = renderCalendar({ name: cluster.name, method }, [
          renderEvent(huddle, eventContext(cluster, deps.baseUrl, deps.mailFrom), { audience: 'private', stamp: clock.now(), attendee: { email: member.email, name: member.name } }),
        ]);
        const subject = change === 'cancelled' ? `Cancelled: ${huddle.title}` : `Updated: ${huddle.title}`;
        outbox.enqueue(tx, { kind: `registration.huddle_${change}`, to: member.email, clusterId: cluster.id, ...email, subject, calendar: { method, content } });
      }
    },

    /** After an organiser edit: fill places a raised capacity opened. */
    fillCapacity(tx: DbOrTx, huddle: Huddle) {
      if (huddle.status !== 'published') return;
      promote(tx, huddle, deps.clusters.getById(huddle.clusterId));
    },
  };
}
