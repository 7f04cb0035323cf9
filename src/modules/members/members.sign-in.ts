// Member sign-in: one-time codes sent by email, exchanged for member tokens that expire and can be revoked.
import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import { immediate, writeSoon, type Db, type DbOrTx } from '../../db/client.js';
import { fastRows } from '../../db/rows.js';
import { members, memberTokens, signInCodes, type MemberTokenKind } from '../../db/schema.js';
import { problem } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import { createSendAllowance } from '../../lib/send-allowance.js';
import { isEmailAddress, normaliseEmail } from '../../lib/text.js';
import { findCurrentToken, lastUseFailed, generateToken, hashToken, looksLikeToken, tokenMatches } from '../../lib/tokens.js';
import type { MemberPrincipal } from '../../shared/principals.js';
import type { Site } from '../../shared/site.js';
import type { AuditService } from '../audit/audit.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { Outbox } from '../outbox/outbox.service.js';
import { signInEmail, signInUrl } from './members.emails.js';

export const SIGN_IN_CODE_MINUTES = 15;
export const MEMBER_TOKEN_DAYS = 90;
/** A browser session lasts this long from sign-in (sign-out, suspension or revoking it ends it sooner). */
export const SESSION_DAYS = 30;
/** Sign-in emails one address can trigger in a window; more requests still answer 202 but send nothing. */
export const LINKS_PER_ADDRESS = 3;
const LINK_WINDOW_MS = 15 * 60_000;
const MAX_TRACKED_ADDRESSES = 50_000;

export interface IssuedMemberToken {
  token: string;
  tokenId: string;
  memberId: string;
  expiresAt: Date;
}

export type SignIn = ReturnType<typeof createSignIn>;

export function createSignIn(deps: { db: Db; clock: Clock; audit: AuditService; outbox: Outbox; clusters: ClustersService; site: Site }) {
  const { db, clock, audit, outbox } = deps;
  const allowLink = createSendAllowance({ perAddress: LINKS_PER_ADDRESS, windowMs: LINK_WINDOW_MS, maxTracked: MAX_TRACKED_ADDRESSES });

  const tokenByHash = fastRows(
    db
      .select({
        tokenId: memberTokens.id,
        tokenHash: memberTokens.tokenHash,
        expiresAt: memberTokens.expiresAt,
        revokedAt: memberTokens.revokedAt,
        lastUsedAt: memberTokens.lastUsedAt,
        kind: memberTokens.kind,
        memberId: members.id,
        memberName: members.name,
        memberStatus: members.status,
        clusterId: members.clusterId,
      })
      .from(memberTokens)
      .innerJoin(members, eq(members.id, memberTokens.memberId))
      .where(eq(memberTokens.tokenHash, sql.placeholder('hash')))
      .prepare(),
  );
  const touchToken = db
    .update(memberTokens)
    .set({ lastUsedAt: sql`${sql.placeholder('now')}` })
    .where(eq(memberTokens.id, sql.placeholder('id')))
    .prepare();

  // Made once: every signed-in request looks its token up through it.
  const tokenStore = {
    find: (hash: string) => tokenByHash.get({ hash }),
    markUsed: (current: { tokenId: string }, at: Date) =>
      writeSoon(db, () => touchToken.run({ id: current.tokenId, now: at.getTime() }), lastUseFailed),
  };

  function issueCode(tx: DbOrTx, memberId: string, minutes: number = SIGN_IN_CODE_MINUTES): string {
    const code = generateToken('signInCode');
    const now = clock.now();
    tx.insert(signInCodes)
      .values({ id: newId(), memberId, codeHash: hashToken(code), createdAt: now, expiresAt: new Date(now.getTime() + minutes * 60_000) })
      .run();
    return code;
  }

  /** Spends a sign-in code of an active member (and every other open one) for a new token of this kind. */
  function redeem(code: string, options: { kind: MemberTokenKind; userAgent: string | null }): IssuedMemberToken {
    const invalid = () => problem('SIGN_IN_CODE_INVALID', 'The sign-in code is unknown, used or expired: ask for a new link');
    if (!looksLikeToken(code, 'signInCode')) throw invalid();
    return immediate(db, (tx) => {
      const now = clock.now();
      const row = tx
        .select({
          id: signInCodes.id,
          codeHash: signInCodes.codeHash,
          memberId: members.id,
          clusterId: members.clusterId,
          memberName: members.name,
        })
        .from(signInCodes)
        .innerJoin(members, eq(members.id, signInCodes.memberId))
        .where(
          and(
            eq(signInCodes.codeHash, hashToken(code)),
            isNull(signInCodes.usedAt),
            gt(signInCodes.expiresAt, now),
            eq(members.status, 'active'),
          ),
        )
        .get();
      if (!row || !tokenMatches(code, row.codeHash)) throw invalid();
      // Using one code spends every other open code of the member too (an old welcome link included).
      tx.update(signInCodes)
        .set({ usedAt: now })
        .where(and(eq(signInCodes.memberId, row.memberId), isNull(signInCodes.usedAt)))
        .run();
      const token = generateToken('memberToken');
      const tokenId = newId();
      const days = options.kind === 'browser' ? SESSION_DAYS : MEMBER_TOKEN_DAYS;
      const expiresAt = new Date(now.getTime() + days * 86_400_000);
      tx.insert(memberTokens)
        .values({
          id: tokenId,
          memberId: row.memberId,
          tokenHash: hashToken(token),
          kind: options.kind,
          userAgent: options.userAgent,
          createdAt: now,
          expiresAt,
        })
        .run();
      audit.record(
        tx,
        { type: 'member', id: row.memberId, label: row.memberName },
        {
          clusterId: row.clusterId,
          action: 'member.signed_in',
          targetType: options.kind === 'browser' ? 'member_session' : 'member_token',
          targetId: tokenId,
        },
      );
      return { token, tokenId, memberId: row.memberId, expiresAt };
    });
  }

  return {
    issueCode,

    /**
     * Emails a sign-in link to every active membership of this address (one per cluster). Says nothing
     * about whether the address is known: the caller answers 202 whatever happens here.
     */
    requestLink(rawEmail: string): void {
      const email = normaliseEmail(rawEmail);
      if (!isEmailAddress(email)) return;
      const now = clock.now();
      immediate(db, (tx) => {
        const memberships = tx
          .select({ id: members.id, name: members.name, clusterId: members.clusterId })
          .from(members)
          .where(and(eq(members.email, email), eq(members.status, 'active')))
          .all();
        if (memberships.length === 0 || !allowLink(email, now.getTime())) return;
        for (const membership of memberships) {
          const code = issueCode(tx, membership.id);
          const message = signInEmail(
            membership.name,
            deps.clusters.getById(membership.clusterId).name,
            signInUrl(deps.site.baseUrl, code),
          );
          outbox.enqueue(tx, { kind: 'member.sign_in', to: email, clusterId: membership.clusterId, ...message });
        }
      });
    },

    /** Turns an unused, unexpired code of an active member into a new member token for the API (shown once). */
    exchange(code: string): IssuedMemberToken {
      return redeem(code, { kind: 'api', userAgent: null });
    },

    /** Turns a sign-in code into a browser session: a token the page keeps in an HttpOnly cookie. */
    startSession(code: string, userAgent: string | null): IssuedMemberToken {
      return redeem(code, { kind: 'browser', userAgent: userAgent ? userAgent.slice(0, 300) : null });
    },

    /** A member's browser sessions still open, newest first. */
    sessions(memberId: string) {
      return db
        .select({
          id: memberTokens.id,
          userAgent: memberTokens.userAgent,
          createdAt: memberTokens.createdAt,
          lastUsedAt: memberTokens.lastUsedAt,
          expiresAt: memberTokens.expiresAt,
        })
        .from(memberTokens)
        .where(
          and(
            eq(memberTokens.memberId, memberId),
            eq(memberTokens.kind, 'browser'),
            isNull(memberTokens.revokedAt),
            gt(memberTokens.expiresAt, clock.now()),
          ),
        )
        .orderBy(desc(memberTokens.createdAt))
        .all();
    },

    /** Ends one of the member's own sessions (another browser's, or this one: signing out). */
    endSession(principal: MemberPrincipal, tokenId: string): void {
      immediate(db, (tx) => {
        const ended = tx
          .update(memberTokens)
          .set({ revokedAt: clock.now() })
          .where(and(eq(memberTokens.id, tokenId), eq(memberTokens.memberId, principal.memberId), isNull(memberTokens.revokedAt)))
          .run();
        if (ended.changes === 0) return;
        audit.record(
          tx,
          { type: 'member', id: principal.memberId, label: principal.label },
          { clusterId: principal.clusterId, action: 'member.signed_out', targetType: 'member_token', targetId: tokenId },
        );
      });
    },

    /** The member behind a presented token, or null when it is unknown, revoked, expired or the member is suspended. */
    resolveToken(token: string, now: Date, kind: MemberTokenKind = 'api'): MemberPrincipal | null {
      const row = findCurrentToken(token, 'memberToken', now, tokenStore);
      // A browser session works only from its cookie, on the pages; an API token only as a bearer token.
      if (!row || row.memberStatus !== 'active' || row.kind !== kind) return null;
      return {
        kind: 'member',
        memberId: row.memberId,
        clusterId: row.clusterId,
        clusterSlug: deps.clusters.slugOf(row.clusterId),
        tokenId: row.tokenId,
        label: row.memberName,
      };
    },

    /** Spends every open sign-in code of a member (on suspension), so none works after reactivation. */
    spendCodes(tx: DbOrTx, memberId: string): void {
      tx.update(signInCodes)
        .set({ usedAt: clock.now() })
        .where(and(eq(signInCodes.memberId, memberId), isNull(signInCodes.usedAt)))
        .run();
    },

    /** Revokes one token (signing out); it stops working at once. */
    revoke(principal: MemberPrincipal): void {
      immediate(db, (tx) => {
        tx.update(memberTokens)
          .set({ revokedAt: clock.now() })
          .where(and(eq(memberTokens.id, principal.tokenId), isNull(memberTokens.revokedAt)))
          .run();
        audit.record(
          tx,
          { type: 'member', id: principal.memberId, label: principal.label },
          { clusterId: principal.clusterId, action: 'member.signed_out', targetType: 'member_token', targetId: principal.tokenId },
        );
      });
    },
  };
}
