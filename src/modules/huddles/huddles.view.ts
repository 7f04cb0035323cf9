// How a huddle is shown over the API: the public view never carries the online link.
import type { Huddle } from '../../db/schema.js';
import { calendarLinks, huddleCalendarUrl } from '../../shared/calendar-links.js';
import { bookingWindow } from './huddles.settings.js';
import { zoned } from './huddles.time.js';

export function huddleView(huddle: Huddle, clusterSlug: string, baseUrl: string, audience: 'public' | 'organiser') {
  const window = bookingWindow(huddle.startsAt, huddle);
  const view = {
    id: huddle.id,
    cluster: clusterSlug,
    seriesId: huddle.seriesId,
    title: huddle.title,
    description: huddle.description,
    start: zoned(huddle.startsAt, huddle.timezone),
    end: zoned(huddle.endsAt, huddle.timezone),
    durationMinutes: Math.round((huddle.endsAt.getTime() - huddle.startsAt.getTime()) / 60_000),
    venue: huddle.venueName ? { name: huddle.venueName, address: huddle.venueAddress } : null,
    hasOnlineLink: huddle.onlineUrl !== null,
    capacity: huddle.capacity,
    themes: huddle.themes,
    status: huddle.status,
    cancellation: huddle.cancelledAt ? { reason: huddle.cancelReason ?? '', at: huddle.cancelledAt.toISOString() } : null,
    sequence: huddle.sequence,
    pitch: {
      slotCount: huddle.slotCount,
      slotMinutes: huddle.slotMinutes,
      changeoverMinutes: huddle.changeoverMinutes,
      startOffsetMinutes: huddle.pitchOffsetMinutes,
      bookingOpensDaysBefore: huddle.bookingOpensDaysBefore,
      bookingClosesHoursBefore: huddle.bookingClosesHoursBefore,
      cancellationCutoffHours: huddle.cancellationCutoffHours,
      approvalRequired: huddle.approvalRequired,
      bookingOpensAt: window.opensAt?.toISOString() ?? null,
      bookingClosesAt: window.closesAt.toISOString(),
    },
    calendar: calendarLinks(huddleCalendarUrl(baseUrl, huddle.id)),
    updatedAt: huddle.updatedAt.toISOString(),
  };
  if (audience === 'public') return view;
  return { ...view, onlineUrl: huddle.onlineUrl, createdAt: huddle.createdAt.toISOString() };
}
