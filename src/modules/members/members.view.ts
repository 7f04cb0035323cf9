// How a member is shown over the API, and the addresses of their private calendar.
import type { Member } from '../../db/schema.js';
import { calendarLinks, memberCalendarUrl } from '../../shared/calendar-links.js';

export function memberView(member: Member, clusterSlug: string) {
  return {
    id: member.id,
    cluster: clusterSlug,
    email: member.email,
    name: member.name,
    organisation: member.organisation,
    organisationType: member.organisationType,
    status: member.status,
    createdAt: member.createdAt.toISOString(),
    updatedAt: member.updatedAt.toISOString(),
  };
}

/** The private feed's https, webcal:// and Google addresses, from its current token. */
export function memberFeedLinks(baseUrl: string, feedToken: string) {
  return calendarLinks(memberCalendarUrl(baseUrl, feedToken));
}
