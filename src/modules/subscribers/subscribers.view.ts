// How a subscriber and a suppressed address are shown to organisers over the API.
import type { ConsentEvent, Subscriber } from '../../db/schema.js';
import { toCsv } from '../../lib/csv.js';
import type { SuppressionEntry } from './subscribers.suppressions.js';

export function subscriberView(subscriber: Subscriber) {
  return {
    id: subscriber.id,
    email: subscriber.email,
    name: subscriber.name,
    status: subscriber.status,
    topics: subscriber.topics,
    themes: subscriber.themes,
    createdAt: subscriber.createdAt.toISOString(),
    confirmedAt: subscriber.confirmedAt?.toISOString() ?? null,
    unsubscribedAt: subscriber.unsubscribedAt?.toISOString() ?? null,
  };
}

/** A suppressed address as organisers see it. */
export function suppressionView(entry: SuppressionEntry) {
  return { email: entry.email, scope: entry.scope, reason: entry.reason, detail: entry.detail, createdAt: entry.createdAt.toISOString() };
}

/** Subscribers as CSV, one a row (the API's Accept: text/csv, the console's download). */
export function subscribersCsv(rows: Subscriber[]): string {
  return toCsv(
    ['email', 'name', 'status', 'topics', 'themes', 'created_at', 'confirmed_at', 'unsubscribed_at'],
    rows.map((s) => [
      s.email,
      s.name,
      s.status,
      s.topics.join(' '),
      s.themes.join(' '),
      s.createdAt.toISOString(),
      s.confirmedAt?.toISOString() ?? '',
      s.unsubscribedAt?.toISOString() ?? '',
    ]),
  );
}

/** Everything held about one person, as they or an organiser download it. */
export function exportView(held: {
  subscriber: Subscriber;
  events: ConsentEvent[];
  deliveries: { campaignId: string; status: string; sentAt: Date | null }[];
}) {
  return {
    subscriber: subscriberView(held.subscriber),
    consent: held.events.map((e) => ({
      kind: e.kind,
      source: e.source,
      wordingVersion: e.wordingVersion,
      topics: e.topics,
      ip: e.ip,
      userAgent: e.userAgent,
      at: e.at.toISOString(),
    })),
    deliveries: held.deliveries.map((d) => ({ campaignId: d.campaignId, status: d.status, sentAt: d.sentAt?.toISOString() ?? null })),
  };
}
