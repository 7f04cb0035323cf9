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

/** What one person signed in to the console may do in one cluster: their organiser row there. */
export interface ConsoleRole {
  organiserId: string;
  clusterId: string;
  clusterSlug: string;
  clusterName: string;
  role: OrganiserRole;
  name: string;
}

/** A console session: the person behind an address, and the clusters they organise or view. */
export interface ConsoleSession {
  sessionId: string;
  email: string;
  roles: ConsoleRole[];
}

/** The organiser a console session acts as in one cluster, or null when the person has no role there. */
export function consolePrincipal(session: ConsoleSession, clusterSlug: string): OrganiserPrincipal | null {
  const role = session.roles.find((candidate) => candidate.clusterSlug === clusterSlug);
  if (!role) return null;
  return {
    kind: 'organiser',
    role: role.role,
    organiserId: role.organiserId,
    clusterId: role.clusterId,
    clusterSlug: role.clusterSlug,
    keyId: session.sessionId,
    label: role.name,
  };
}

/** Who did it, for the audit log, when an organiser acts through the console. */
export function consoleActor(principal: OrganiserPrincipal) {
  return { type: 'organiser' as const, id: principal.organiserId, label: `${principal.label} (console)` };
}
