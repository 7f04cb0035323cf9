// Reminders: 24 hours before a huddle, every registered attendee and every confirmed pitcher gets one
// email with the agenda and the calendar entry. The reminders table (unique per huddle and address)
// is written in the same transaction as the outbox row, so a restart never sends one twice.
import { and, asc, eq, gt, lte } from 'drizzle-orm';
import { immediate, type Db } from '../../db/client.js';
import { bookings, huddles, members, registrations, reminders, slots } from '../../db/schema.js';
import type { Clock } from '../../lib/clock.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import { eventContext } from '../feeds/feeds.service.js';
import { renderCalendar, renderEvent } from '../feeds/feeds.render.js';
import type { Outbox } from '../outbox/outbox.service.js';
import { reminderEmail } from './reminders.render.js';

export const REMINDER_LEAD_MS = 24 * 3_600_000;

export function createRemindersService(deps: { db: Db; clock: Clock; outbox: Outbox; clusters: ClustersService; baseUrl: string; mailFrom: string }) {
  const { db, clock, outbox } = deps;

  return {
    /** Sends the reminders that are due; returns how many it queued. */
    sendDue(): number {
      const now = clock.now();
      const due = db
        .select()
        .from(huddles)
        .where(and(eq(huddles.status, 'published'), gt(huddles.startsAt, now), lte(huddles.startsAt, new Date(now.getTime() + REMINDER_LEAD_MS))))
        .orderBy(asc(huddles.startsAt))
        .all();
      let queued = 0;
      for (const huddle of due) {
        queued += immediate(db, (tx) => {
          const current = tx.select().from(huddles).where(eq(huddles.id, huddle.id)).get();
          if (!current || current.status !== 'published') return 0;
          const agenda = tx
            .select({ booking: bookings, slot: slots, member: members })
            .from(bookings)
            .innerJoin(slots, eq(slots.id, bookings.slotId))
            .innerJoin(members, eq(members.id, bookings.memberId))
            .where(and(eq(bookings.huddleId, current.id), eq(bookings.status, 'confirmed')))
            .orderBy(asc(slots.position))
            .all();
          const attendees = tx
            .select({ member: members })
            .from(registrations)
            .innerJoin(members, eq(members.id, registrations.memberId))
            .where(and(eq(registrations.huddleId, current.id), eq(registrations.status, 'registered')))
            .all()
            .map((row) => row.member);
          const people = new Map<string, { email: string; name: string }>();
          for (const person of [...attendees, ...agenda.map((row) => row.member)]) if (person.status === 'active') people.set(person.email, person);
          const already = new Set(tx.select({ email: reminders.email }).from(reminders).where(eq(reminders.huddleId, current.id)).all().map((row) => row.email));
          const cluster = deps.clusters.getById(current.clusterId);
          const context = eventContext(cluster, deps.baseUrl, deps.mailFrom);
          const items = agenda.map(({ booking, slot, member }) => ({ slot, organisation: member.organisation, title: booking.title }));
          let count = 0;
          for (const person of people.values()) {
            if (already.has(person.email)) continue;
            tx.insert(reminders).values({ huddleId: current.id, email: person.email, sentAt: now }).run();
            const calendar = renderCalendar({ name: cluster.name, method: 'REQUEST' }, [renderEvent(current, context, { audience: 'private', stamp: now, attendee: person })]);
            outbox.enqueue(tx, {
              kind: 'huddle.reminder',
              to: person.email,
              clusterId: cluster.id,
              ...reminderEmail({ huddle: current, clusterName: cluster.name, memberName: person.name, agenda: items }),
              calendar: { method: 'REQUEST', content: calendar },
            });
            count += 1;
          }
          return count;
        });
      }
      return queued;
    },
  };
}
