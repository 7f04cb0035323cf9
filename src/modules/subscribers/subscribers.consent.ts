// The consent ledger and the suppression list: what each person agreed to, when and how (kept when
// they leave, minus what identifies them once erased), and the addresses that are never mailed again:
// erased (in their cluster, kept only as a hash) or refused for good by their mail server, bounced
// too often or reported as spam (in every cluster, with the address so organisers can see whom).
import { and, asc, eq, isNull, or, sql } from 'drizzle-orm';
import { rawPlaceholder, type Db, type DbOrTx } from '../../db/client.js';
import { consentEvents, suppressions, type Subscriber, type SuppressionReason } from '../../db/schema.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import { normaliseEmail } from '../../lib/text.js';
import { hashToken } from '../../lib/tokens.js';

export type ConsentSource =
  | 'form'
  | 'api'
  | 'import'
  | 'organiser'
  | 'email-link'
  | 'one-click'
  /** A reply to the newsletter's mailto unsubscribe address. */
  | 'email-reply'
  /** A spam complaint relayed by the person's mail provider (ARF report or provider webhook). */
  | 'abuse-report';

/** The version of the consent wording shown on the sign-up form and in the confirmation email. */
export const CONSENT_WORDING_VERSION = '2026-11-23';

/** Where a change of consent came from, for the ledger. */
export interface RequestContext {
  source: ConsentSource;
  ip?: string | null;
  userAgent?: string | null;
}

export function emailHash(email: string): string {
  return hashToken(normaliseEmail(email));
}

export function createConsentLedger(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;
  // Sign-ups are public and busy, so their statements are prepared once (they run on the connection
  // every transaction uses, so inside the caller's).
  const insertEvent = db
    .insert(consentEvents)
    .values({
      id: rawPlaceholder('id'),
      clusterId: rawPlaceholder('clusterId'),
      subscriberId: rawPlaceholder('subscriberId'),
      emailHash: rawPlaceholder('hash'),
      kind: rawPlaceholder('kind'),
      source: rawPlaceholder('source'),
      wordingVersion: CONSENT_WORDING_VERSION,
      topics: rawPlaceholder('topics'),
      ip: rawPlaceholder('ip'),
      userAgent: rawPlaceholder('userAgent'),
      at: rawPlaceholder('at'),
    })
    .prepare();
  const suppressed = db
    .select({ hash: suppressions.emailHash })
    .from(suppressions)
    .where(
      and(
        eq(suppressions.emailHash, sql.placeholder('hash')),
        or(eq(suppressions.clusterId, sql.placeholder('clusterId')), isNull(suppressions.clusterId)),
      ),
    )
    .prepare();

  return {
    /** Records a change of consent: of a subscriber, or (erasure) of the address's hash alone. */
    record(
      _tx: DbOrTx,
      subscriber: Pick<Subscriber, 'id' | 'clusterId' | 'email'> | null,
      kind: string,
      context: RequestContext & { clusterId?: string; hash?: string; topics?: string[] },
    ) {
      insertEvent.run({
        id: newId(),
        clusterId: subscriber?.clusterId ?? context.clusterId!,
        subscriberId: subscriber?.id ?? null,
        hash: subscriber ? emailHash(subscriber.email) : context.hash!,
        kind,
        source: context.source,
        topics: context.topics ? JSON.stringify(context.topics) : null,
        ip: context.ip ?? null,
        userAgent: context.userAgent?.slice(0, 500) ?? null,
        at: clock.now().getTime(),
      });
    },

    /** A subscriber's consent events, oldest first. */
    eventsOf(subscriberId: string) {
      return db
        .select()
        .from(consentEvents)
        .where(eq(consentEvents.subscriberId, subscriberId))
        .orderBy(asc(consentEvents.at), asc(consentEvents.id))
        .all();
    },

    /** Keeps what a person agreed to, forgets where they did it from (erasure). */
    forgetRequester(tx: DbOrTx, subscriberId: string): void {
      tx.update(consentEvents).set({ ip: null, userAgent: null }).where(eq(consentEvents.subscriberId, subscriberId)).run();
    },

    isSuppressed(_tx: DbOrTx, clusterId: string, email: string): boolean {
      return suppressed.get({ clusterId, hash: emailHash(email) }) !== undefined;
    },

    /** The hashes never to mail in a cluster. */
    suppressedIn(tx: DbOrTx, clusterId: string): Set<string> {
      return new Set(
        tx
          .select({ hash: suppressions.emailHash })
          .from(suppressions)
          .where(or(eq(suppressions.clusterId, clusterId), isNull(suppressions.clusterId)))
          .all()
          .map((row) => row.hash),
      );
    },

    /** Never mail this address in this cluster again (erasure: only the hash is kept). */
    suppress(tx: DbOrTx, clusterId: string, email: string, reason: 'erased'): void {
      tx.insert(suppressions)
        .values({ clusterId, emailHash: emailHash(email), reason, createdAt: clock.now() })
        .onConflictDoNothing()
        .run();
    },

    /** Never mail this address again from any cluster (its mail server refuses it, or its owner reported spam). Returns false if it was already. */
    suppressEverywhere(tx: DbOrTx, email: string, reason: Exclude<SuppressionReason, 'erased'>, detail: string | null): boolean {
      return (
        tx
          .insert(suppressions)
          .values({ clusterId: null, emailHash: emailHash(email), email: normaliseEmail(email), reason, detail, createdAt: clock.now() })
          .onConflictDoNothing()
          .run().changes > 0
      );
    },

    /** An erased person's address leaves the instance-wide list too; its hash keeps suppressing it. */
    forgetAddress(tx: DbOrTx, email: string): void {
      tx.update(suppressions)
        .set({ email: null, detail: null })
        .where(and(isNull(suppressions.clusterId), eq(suppressions.emailHash, emailHash(email))))
        .run();
    },
  };
}
