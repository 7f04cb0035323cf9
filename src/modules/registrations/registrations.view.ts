// How a member's registration for a huddle is shown over the API.
import type { Huddle, Registration } from '../../db/schema.js';

export function registrationView(registration: Registration, huddle: Huddle, position: number | null) {
  return {
    id: registration.id,
    huddleId: huddle.id,
    huddleTitle: huddle.title,
    status: registration.status,
    position,
    createdAt: registration.createdAt.toISOString(),
  };
}
