// Reminders: 24 hours before a huddle, every registered attendee and every confirmed pitcher gets one
// email with the agenda and the calendar entry. The reminders table (unique per huddle and address)
// is written in the same transaction as the outbox row, so a restart never sends one twice.
import { eq } from 'drizzle-orm';
import { immediate, type Db } from '../../db/client.js';
import { reminders } from '../../db/schema.js';
import type { Clock } from '../../lib/clock.js';
import type { TimedJob } from '../../lib/jobs.js';
import { eventContext, renderCalendar, renderEvent } from '../../shared/calendar.js';
import type { Site } from '../../shared/site.js';
import type { BookingsService } from '../bookings/bookings.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { HuddlesService } from '../huddles/huddles.service.js';
import type { Outbox } from '../outbox/outbox.service.js';
import type { RegistrationsService } from '../registrations/registrations.service.js';
import { reminderEmail } from './reminders.render.js';

export const REMINDER_LEAD_MS = 24 * 3_600_000;

export type RemindersService = ReturnType<typeof createRemindersService>;

export function createRemindersService(deps: {
  db: Db;
  clock: Clock;
  outbox: Outbox;
  clusters: ClustersService;
  huddles: HuddlesService;
  bookings: BookingsService;
  registrations: RegistrationsService;
  site: Site;
}) {
  const { db, clock, outbox } = deps;

  /** Sends the reminders that are due; returns how many it queued. */
  function sendDue(): number {
    const now = clock.now();
    let queued = 0;
    for (const huddle of deps.huddles.publishedStartingBetween(now, new Date(now.getTime() + REMINDER_LEAD_MS))) {
      queued += immediate(db, (tx) => {
        const current = deps.huddles.find(huddle.id);
        if (!current || current.status !== 'published') return 0;
        const agenda = deps.bookings.agenda(tx, current.id);
        const people = new Map<string, { email: string; name: string }>();
        for (const person of [...deps.registrations.attendees(tx, current.id), ...agenda.map((row) => row.member)])
          if (person.status === 'active') people.set(person.email, person);
        const already = new Set(
          tx
            .select({ email: reminders.email })
            .from(reminders)
            .where(eq(reminders.huddleId, current.id))
            .all()
            .map((row) => row.email),
        );
        const cluster = deps.clusters.getById(current.clusterId);
        const context = eventContext(cluster, deps.site);
        const items = agenda.map(({ booking, slot, member }) => ({ slot, organisation: member.organisation, title: booking.title }));
        let count = 0;
        for (const person of people.values()) {
          if (already.has(person.email)) continue;
          tx.insert(reminders).values({ huddleId: current.id, email: person.email, sentAt: now }).run();
          const calendar = renderCalendar({ name: cluster.name, method: 'REQUEST' }, [
            renderEvent(current, context, { audience: 'private', stamp: now, attendee: person }),
          ]);
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
  }

  const jobs: TimedJob[] = [{ name: 'reminders', run: sendDue }];
  return { jobs };
}
