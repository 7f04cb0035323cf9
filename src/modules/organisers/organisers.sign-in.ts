// Console sign-in: a one-time code emailed to a person who organises (or views) clusters, exchanged for
// a browser session. The session belongs to the address, so a person with a role in two clusters signs
// in once and switches between them; what they may do in each is their organiser row there.
import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import { immediate, writeSoon, type Db } from '../../db/client.js';
import { organisers, organiserSessions, organiserSignInCodes } from '../../db/schema.js';
import { problem } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import { createSendAllowance } from '../../lib/send-allowance.js';
import { isEmailAddress, normaliseEmail } from '../../lib/text.js';
import { findCurrentToken, lastUseFailed, generateToken, hashToken, looksLikeToken, tokenMatches } from '../../lib/tokens.js';
import type { ConsoleRole, ConsoleSession } from '../../shared/principals.js';
import type { Site } from '../../shared/site.js';
import type { AuditService } from '../audit/audit.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { Outbox } from '../outbox/outbox.service.js';
import { consoleSignInEmail, consoleSignInUrl } from './organisers.emails.js';

export const CONSOLE_CODE_MINUTES = 15;
/** A console session lasts this long from sign-in; signing out or ending it from another browser ends it sooner. */
export const CONSOLE_SESSION_DAYS = 14;
const LINKS_PER_ADDRESS = 3;

export interface IssuedConsoleSession {
  token: string;
  sessionId: string;
  expiresAt: Date;
}

export type ConsoleSignIn = ReturnType<typeof createConsoleSignIn>;

export function createConsoleSignIn(deps: {
  db: Db;
  clock: Clock;
  audit: AuditService;
  outbox: Outbox;
  clusters: ClustersService;
  site: Site;
}) {
  const { db, clock, audit, outbox, clusters } = deps;
  const allowLink = createSendAllowance({ perAddress: LINKS_PER_ADDRESS, windowMs: CONSOLE_CODE_MINUTES * 60_000, maxTracked: 10_000 });

  const sessionByHash = db
    .select({
      sessionId: organiserSessions.id,
      email: organiserSessions.email,
      tokenHash: organiserSessions.tokenHash,
      expiresAt: organiserSessions.expiresAt,
      revokedAt: organiserSessions.revokedAt,
      lastUsedAt: organiserSessions.lastUsedAt,
    })
    .from(organiserSessions)
    .where(eq(organiserSessions.tokenHash, sql.placeholder('hash')))
    .prepare();
  const touchSession = db
    .update(organiserSessions)
    .set({ lastUsedAt: sql`${sql.placeholder('now')}` })
    .where(eq(organiserSessions.id, sql.placeholder('id')))
    .prepare();
  const rolesByEmail = db
    .select({ organiserId: organisers.id, clusterId: organisers.clusterId, role: organisers.role, name: organisers.name })
    .from(organisers)
    .where(eq(organisers.email, sql.placeholder('email')))
    .prepare();

  /** Every cluster this address organises or views, by cluster name. */
  function rolesOf(email: string): ConsoleRole[] {
    return rolesByEmail
      .all({ email })
      .map((row) => {
        const cluster = clusters.getById(row.clusterId);
        return { ...row, clusterSlug: cluster.slug, clusterName: cluster.name };
      })
      .sort((a, b) => a.clusterName.localeCompare(b.clusterName));
  }

  return {
    rolesOf,

    /**
     * Emails one sign-in link to an address with a role in at least one cluster. Says nothing about
     * whether it has one: the page answers the same whatever happens here.
     */
    requestLink(rawEmail: string): void {
      const email = normaliseEmail(rawEmail);
      if (!isEmailAddress(email)) return;
      const now = clock.now();
      immediate(db, (tx) => {
        const roles = rolesOf(email);
        if (roles.length === 0 || !allowLink(email, now.getTime())) return;
        const code = generateToken('consoleCode');
        tx.insert(organiserSignInCodes)
          .values({
            id: newId(),
            email,
            codeHash: hashToken(code),
            createdAt: now,
            expiresAt: new Date(now.getTime() + CONSOLE_CODE_MINUTES * 60_000),
          })
          .run();
        const message = consoleSignInEmail(
          roles[0]!.name,
          roles.map((role) => role.clusterName),
          consoleSignInUrl(deps.site.baseUrl, code),
        );
        // From the cluster's own address when the person has one cluster; the instance's otherwise.
        const clusterId = roles.length === 1 ? roles[0]!.clusterId : null;
        outbox.enqueue(tx, { kind: 'organiser.sign_in', to: email, clusterId, ...message });
      });
    },

    /** Spends an unused, unexpired code (and every other open code of the address) for a new session. */
    startSession(code: string, userAgent: string | null): IssuedConsoleSession {
      const invalid = () => problem('SIGN_IN_CODE_INVALID', 'The sign-in code is unknown, used or expired: ask for a new link');
      if (!looksLikeToken(code, 'consoleCode')) throw invalid();
      return immediate(db, (tx) => {
        const now = clock.now();
        const row = tx
          .select({ codeHash: organiserSignInCodes.codeHash, email: organiserSignInCodes.email })
          .from(organiserSignInCodes)
          .where(
            and(
              eq(organiserSignInCodes.codeHash, hashToken(code)),
              isNull(organiserSignInCodes.usedAt),
              gt(organiserSignInCodes.expiresAt, now),
            ),
          )
          .get();
        const roles = row ? rolesOf(row.email) : [];
        if (!row || !tokenMatches(code, row.codeHash) || roles.length === 0) throw invalid();
        tx.update(organiserSignInCodes)
          .set({ usedAt: now })
          .where(and(eq(organiserSignInCodes.email, row.email), isNull(organiserSignInCodes.usedAt)))
          .run();
        const token = generateToken('consoleSession');
        const sessionId = newId();
        const expiresAt = new Date(now.getTime() + CONSOLE_SESSION_DAYS * 86_400_000);
        tx.insert(organiserSessions)
          .values({
            id: sessionId,
            email: row.email,
            tokenHash: hashToken(token),
            userAgent: userAgent ? userAgent.slice(0, 300) : null,
            createdAt: now,
            expiresAt,
          })
          .run();
        // Each cluster's audit log shows its organisers signing in.
        for (const role of roles) {
          audit.record(
            tx,
            { type: 'organiser', id: role.organiserId, label: `${role.name} (console)` },
            { clusterId: role.clusterId, action: 'organiser.signed_in', targetType: 'organiser_session', targetId: sessionId },
          );
        }
        return { token, sessionId, expiresAt };
      });
    },

    /** The person behind a session token, or null when it is unknown, ended, expired or they have no cluster left. */
    resolveSession(token: string, now: Date): ConsoleSession | null {
      const row = findCurrentToken(token, 'consoleSession', now, {
        find: (hash) => sessionByHash.get({ hash }),
        markUsed: (current, at) => writeSoon(db, () => touchSession.run({ id: current.sessionId, now: at.getTime() }), lastUseFailed),
      });
      if (!row) return null;
      const roles = rolesOf(row.email);
      return roles.length === 0 ? null : { sessionId: row.sessionId, email: row.email, roles };
    },

    /** The person's console sessions still open, newest first. */
    sessions(email: string) {
      return db
        .select({
          id: organiserSessions.id,
          userAgent: organiserSessions.userAgent,
          createdAt: organiserSessions.createdAt,
          lastUsedAt: organiserSessions.lastUsedAt,
          expiresAt: organiserSessions.expiresAt,
        })
        .from(organiserSessions)
        .where(and(eq(organiserSessions.email, email), isNull(organiserSessions.revokedAt), gt(organiserSessions.expiresAt, clock.now())))
        .orderBy(desc(organiserSessions.createdAt))
        .all();
    },

    /** Ends one of the person's own open sessions (another browser's, or this one: signing out); false when there is no such one. */
    endSession(session: ConsoleSession, sessionId: string): boolean {
      return immediate(db, (tx) => {
        const ended = tx
          .update(organiserSessions)
          .set({ revokedAt: clock.now() })
          .where(and(eq(organiserSessions.id, sessionId), eq(organiserSessions.email, session.email), isNull(organiserSessions.revokedAt)))
          .run();
        if (ended.changes === 0) return false;
        for (const role of session.roles) {
          audit.record(
            tx,
            { type: 'organiser', id: role.organiserId, label: `${role.name} (console)` },
            { clusterId: role.clusterId, action: 'organiser.signed_out', targetType: 'organiser_session', targetId: sessionId },
          );
        }
        return true;
      });
    },
  };
}
