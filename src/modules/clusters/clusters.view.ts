// How a cluster is shown over the API and by the CLI: its public profile, with its calendar's addresses.
import type { Cluster } from '../../db/schema.js';
import { calendarLinks, clusterCalendarUrl } from '../../shared/calendar-links.js';

export function clusterProfile(cluster: Cluster, baseUrl: string) {
  return {
    slug: cluster.slug,
    name: cluster.name,
    timezone: cluster.timezone,
    contactEmail: cluster.contactEmail,
    websiteUrl: cluster.websiteUrl,
    sender: cluster.senderAddress
      ? { name: cluster.senderName ?? cluster.name, address: cluster.senderAddress, replyTo: cluster.replyTo }
      : null,
    dkim: cluster.dkimDomain && cluster.dkimSelector ? { domain: cluster.dkimDomain, selector: cluster.dkimSelector } : null,
    description: cluster.description,
    websiteOrigins: cluster.websiteOrigins,
    themes: cluster.themes,
    bookingPolicy: cluster.bookingPolicy,
    calendar: calendarLinks(clusterCalendarUrl(baseUrl, cluster.slug)),
    createdAt: cluster.createdAt.toISOString(),
    updatedAt: cluster.updatedAt.toISOString(),
  };
}
