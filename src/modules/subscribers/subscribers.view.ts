// How a subscriber and a suppressed address are shown to organisers over the API.
import type { Subscriber } from '../../db/schema.js';
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
