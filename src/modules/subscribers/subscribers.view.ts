// How a subscriber is shown to organisers over the API.
import type { Subscriber } from '../../db/schema.js';

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
