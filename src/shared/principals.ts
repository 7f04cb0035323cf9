// Who is calling: the principals a bearer token or session resolves to. The auth plugin makes them;
// modules read them (who may cancel a booking, whose cluster a key belongs to).
import type { OrganiserRole } from '../db/schema.js';

export type PrincipalKind = 'organiser' | 'member';

export interface OrganiserPrincipal {
  kind: 'organiser';
  /** A viewer's key reads everything in its cluster and changes nothing (the auth plugin refuses its writes). */
  role: OrganiserRole;
  organiserId: string;
  clusterId: string;
  clusterSlug: string;
  keyId: string;
  label: string;
}

export interface MemberPrincipal {
  kind: 'member';
  memberId: string;
  clusterId: string;
  clusterSlug: string;
  tokenId: string;
  label: string;
}

export type Principal = OrganiserPrincipal | MemberPrincipal;

/** Turns a presented token into a principal, or null when it is unknown, revoked or expired. */
export type TokenResolver = (token: string, now: Date) => Principal | null;

/** Who did it, for the audit log, when a signed-in member acts through the web pages. */
export function webActor(principal: MemberPrincipal) {
  return { type: 'member' as const, id: principal.memberId, label: `${principal.label} (web)` };
}
