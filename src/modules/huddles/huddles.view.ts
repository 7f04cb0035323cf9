// How a huddle is shown over the API: the public view never carries the online link.
import type { huddles, slots } from '../../db/schema.js';
import { bookingWindow } from './huddles.settings.js';
import { zoned } from './huddles.time.js';
import { calendarLinks, huddleCalendarUrl } from '../feeds/feeds.links.js';

export type Huddle = typeof huddles.$inferSelect;
export type Slot = typeof slots.$inferSelect;

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

export function slotView(slot: Slot, zone: string, available: boolean) {
  return { id: slot.id, position: slot.position, start: zoned(slot.startsAt, zone), end: zoned(slot.endsAt, zone), available };
}
