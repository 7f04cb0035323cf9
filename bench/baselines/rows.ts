// The huddle rows the baselines hold: what the app's seeded huddles look like, made without the app.
import type { Huddle } from '../../src/db/schema.js';

/** Huddle number `i` of a baseline, published, starting at `start` (ms), 90 minutes long. */
export function syntheticHuddle(id: string, i: number, start: number, now: Date): Huddle {
  return {
    id,
    clusterId: 'bench',
    seriesId: null,
    title: `Huddle ${i}`,
    description: 'Pitches and news from the cluster.',
    startsAt: new Date(start),
    endsAt: new Date(start + 90 * 60_000),
    timezone: 'Europe/London',
    venueName: 'Hall',
    venueAddress: '1 Science Park',
    onlineUrl: null,
    capacity: null,
    themes: ['data'],
    status: 'published',
    cancelReason: null,
    cancelledAt: null,
    sequence: 0,
    version: 1,
    slotCount: 0,
    slotMinutes: 5,
    changeoverMinutes: 1,
    pitchOffsetMinutes: 10,
    bookingOpensDaysBefore: null,
    bookingClosesHoursBefore: 48,
    cancellationCutoffHours: 24,
    approvalRequired: false,
    createdAt: now,
    updatedAt: now,
  };
}
