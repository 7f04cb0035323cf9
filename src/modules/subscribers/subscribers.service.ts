// Newsletter subscribers: double opt-in sign-up, confirmation, preferences, one-click unsubscribe,
// and erasure. Every change writes the consent ledger (and its email) in the same transaction.
import { and, asc, eq, gt, gte, inArray, lt, ne, or, sql, type SQL } from 'drizzle-orm';
import { forgetOldPages, immediate, type Db, type DbOrTx } from '../../db/client.js';
import { fastRows } from '../../db/rows.js';
import { subscribers, TOPICS, type Cluster, type Subscriber, type SubscriberStatus, type Topic } from '../../db/schema.js';
import { problem } from '../../errors.js';
import { chunks } from '../../lib/chunks.js';
import type { Clock } from '../../lib/clock.js';
import { hook } from '../../lib/hooks.js';
import type { TimedJob } from '../../lib/jobs.js';
import { decodeCursor, pageOf, type Page } from '../../lib/pagination.js';
import { signLink, verifyLink } from '../../lib/signed-links.js';
import { normaliseEmail } from '../../lib/text.js';
import { readReturnAddress, unsubscribeAddress } from '../../shared/return-path.js';
import type { Site } from '../../shared/site.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { Outbox } from '../outbox/outbox.service.js';
import { createConsentLedger, emailHash, type RequestContext } from './subscribers.consent.js';
import { createSuppressionList } from './subscribers.suppressions.js';
import { checkThemes, createSignUp, PENDING_DAYS, pendingExpired, type SignUp } from './subscribers.sign-up.js';

export type { Subscriber };

/** One newsletter addressed to a person, as their export shows it. */
export interface DeliveryRecord {
  campaignId: string;
  /** pending, queued, sending, sent, failed or skipped */
  status: string;
  sentAt: Date | null;
}
export type { SuppressionEntry } from './subscribers.suppressions.js';
export { CONSENT_WORDING_VERSION, emailHash, type ConsentSource, type RequestContext } from './subscribers.consent.js';
export { NOTICE_INTERVAL_MS, PENDING_DAYS, type SignUp } from './subscribers.sign-up.js';

export const LINK_PURPOSES = {
  confirm: 'subscription-confirm',
  unsubscribe: 'unsubscribe',
  preferences: 'subscription-preferences',
} as const;
export type LinkPurpose = keyof typeof LINK_PURPOSES;

/** The outbox kind of an invitation sent to someone because they subscribed to huddle invitations. */
export const SUBSCRIBER_INVITATION_KIND = 'huddle.invitation-to-subscriber';

export type SubscribersService = ReturnType<typeof createSubscribersService>;

export function createSubscribersService(deps: {
  db: Db;
  clock: Clock;
  outbox: Outbox;
  audit: AuditService;
  site: Site;
  secretKey: string;
}) {
  const { db, clock, outbox, audit } = deps;
  const hooks = {
    /** A person was erased: a module that keeps a copy of their address removes it, in the erasure's transaction. */
    erased: hook<[tx: DbOrTx, subscriber: Subscriber]>(),
    /** A person's export: each module answers with the newsletters it addressed to them. */
    exported: hook<[subscriber: Subscriber], DeliveryRecord[]>(),
  };

  const consent = createConsentLedger({ db, clock });
  const { record, isSuppressed } = consent;
  function link(purpose: LinkPurpose, subscriberId: string): string {
    const path = { confirm: '/subscriptions/confirm', unsubscribe: '/unsubscribe', preferences: '/preferences' }[purpose];
    return `${deps.site.baseUrl}${path}?token=${encodeURIComponent(signLink(deps.secretKey, LINK_PURPOSES[purpose], subscriberId))}`;
  }

  /** The subscriber behind a signed link of this purpose, or undefined when the link is not genuine. */
  function fromLink(purpose: LinkPurpose, token: string): Subscriber | undefined {
    const id = verifyLink(deps.secretKey, LINK_PURPOSES[purpose], token);
    return id ? db.select().from(subscribers).where(eq(subscribers.id, id)).get() : undefined;
  }

  /** The worker's job: pending sign-ups older than 30 days are removed (their ledger entries stay). */
  function expirePending(): number {
    const cutoff = new Date(clock.now().getTime() - PENDING_DAYS * 86_400_000);
    const removed = db
      .delete(subscribers)
      .where(and(eq(subscribers.status, 'pending'), lt(subscribers.createdAt, cutoff)))
      .run().changes;
    // Their addresses go from the file too, as with an erasure.
    if (removed > 0) forgetOldPages(db);
    return removed;
  }

  const { signUp } = createSignUp({ db, clock, outbox, consent, link });

  const suppressionList = createSuppressionList({ db, audit });

  /** Leaves the list in the caller's transaction; false when they had left already. */
  function leave(tx: DbOrTx, subscriber: Subscriber, kind: 'unsubscribed' | 'complained', context: RequestContext): boolean {
    const now = clock.now();
    const changed = tx
      .update(subscribers)
      .set({ status: 'unsubscribed', unsubscribedAt: now, updatedAt: now })
      .where(and(eq(subscribers.id, subscriber.id), ne(subscribers.status, 'unsubscribed')))
      .run().changes;
    // A complaint is recorded even from someone who had left: it is what their provider told us.
    if (changed > 0 || kind === 'complained') record(tx, subscriber, kind, context);
    return changed > 0;
  }

  /**
   * Why `subscriber` must not be mailed about `topic` now, or null when they may be: erased, not
   * confirmed (pending, unsubscribed), no longer on the topic, or suppressed. One rule for every mail
   * that goes out on a subscription, checked again as each copy is claimed to leave.
   */
  function reasonNotToMail(tx: DbOrTx, subscriber: Subscriber | undefined, clusterId: string, topic: Topic): string | null {
    if (!subscriber) return 'erased';
    if (subscriber.status !== 'confirmed') return subscriber.status;
    if (!subscriber.topics.includes(topic)) return 'left the topic';
    if (isSuppressed(tx, clusterId, subscriber.email)) return 'suppressed';
    return null;
  }

  // An invitation sent because someone subscribed to huddle invitations leaves only while they still do.
  outbox.hooks.sending.on((row) => {
    if (row.kind !== SUBSCRIBER_INVITATION_KIND || !row.clusterId) return null;
    const subscriber = db
      .select()
      .from(subscribers)
      .where(and(eq(subscribers.clusterId, row.clusterId), eq(subscribers.email, row.toAddress)))
      .get();
    return reasonNotToMail(db, subscriber, row.clusterId, 'huddle-invites');
  });

  // A newsletter reads each recipient as its copy leaves (the last consent check): a hot read (src/db/rows.ts).
  const byIdStatement = fastRows(
    db
      .select()
      .from(subscribers)
      .where(eq(subscribers.id, sql.placeholder('id')))
      .prepare(),
  );
  // And twice as it is queued, twenty at a time: any number of ids as one JSON array, so one statement is
  // prepared once where an IN list was built and prepared per call.
  const byIdsStatement = fastRows(
    db
      .select()
      .from(subscribers)
      .where(sql`${subscribers.id} IN (SELECT value FROM json_each(${sql.placeholder('ids')}))`)
      .prepare(),
  );

  const jobs: TimedJob[] = [{ name: 'pending-sign-ups-expiry', run: expirePending }];

  return {
    hooks,
    jobs,
    link,
    fromLink,
    pendingExpired,

    /** Checks a sign-up's fields; throws a 400 problem before anything is answered or written. */
    check(cluster: Cluster, input: SignUp): void {
      if (input.themes) checkThemes(cluster, input.themes);
    },

    signUp,

    /** Confirms a pending subscription (the POST behind the confirmation email's button). */
    confirm(subscriber: Subscriber, context: RequestContext): Subscriber {
      return immediate(db, (tx) => {
        const current = tx.select().from(subscribers).where(eq(subscribers.id, subscriber.id)).get();
        if (!current) throw problem('SUBSCRIBER_NOT_FOUND');
        if (current.status === 'confirmed') return current;
        if (current.status !== 'pending' || pendingExpired(current, clock.now()))
          throw problem('CONFIRMATION_EXPIRED', 'This confirmation link has expired: sign up again');
        const now = clock.now();
        const confirmed = tx
          .update(subscribers)
          .set({ status: 'confirmed', confirmedAt: now, unsubscribedAt: null, updatedAt: now })
          .where(eq(subscribers.id, current.id))
          .returning()
          .get()!;
        record(tx, confirmed, 'confirmed', { ...context, topics: confirmed.topics });
        return confirmed;
      });
    },

    /**
     * Unsubscribes from everything. Idempotent: a second call changes nothing and records nothing.
     * With an actor (an organiser acting on a request by phone or email), the change is audited too.
     */
    unsubscribe(subscriber: Subscriber, context: RequestContext, actor?: Actor): Subscriber {
      return immediate(db, (tx) => {
        const current = tx.select().from(subscribers).where(eq(subscribers.id, subscriber.id)).get();
        if (!current) throw problem('SUBSCRIBER_NOT_FOUND');
        if (current.status === 'unsubscribed') return current;
        const now = clock.now();
        const after = tx
          .update(subscribers)
          .set({ status: 'unsubscribed', unsubscribedAt: now, updatedAt: now })
          .where(eq(subscribers.id, current.id))
          .returning()
          .get()!;
        record(tx, after, 'unsubscribed', context);
        if (actor)
          audit.record(tx, actor, {
            clusterId: after.clusterId,
            action: 'subscriber.unsubscribed',
            targetType: 'subscriber',
            targetId: after.id,
          });
        return after;
      });
    },

    updatePreferences(
      subscriber: Subscriber,
      cluster: Cluster,
      choice: { topics: Topic[]; themes: string[] },
      context: RequestContext,
    ): Subscriber {
      const topics = [...new Set(choice.topics.filter((topic) => (TOPICS as readonly string[]).includes(topic)))];
      const themes = checkThemes(cluster, choice.themes);
      return immediate(db, (tx) => {
        const now = clock.now();
        // No topic left is the same as leaving.
        // Ticking topics again after leaving re-subscribes: the signed link proves the address is theirs.
        const status: SubscriberStatus =
          topics.length === 0 ? 'unsubscribed' : subscriber.status === 'unsubscribed' ? 'confirmed' : subscriber.status;
        const after = tx
          .update(subscribers)
          .set({
            topics: topics.length === 0 ? subscriber.topics : topics,
            themes,
            status,
            updatedAt: now,
            ...(status === 'unsubscribed' && subscriber.status !== 'unsubscribed' ? { unsubscribedAt: now } : {}),
          })
          .where(eq(subscribers.id, subscriber.id))
          .returning()
          .get()!;
        record(tx, after, status === 'unsubscribed' && subscriber.status !== 'unsubscribed' ? 'unsubscribed' : 'preferences-changed', {
          ...context,
          topics,
        });
        return after;
      });
    },

    get(cluster: Cluster, id: string): Subscriber {
      const subscriber = db.select().from(subscribers).where(eq(subscribers.id, id)).get();
      if (!subscriber || subscriber.clusterId !== cluster.id) throw problem('SUBSCRIBER_NOT_FOUND', `There is no subscriber ${id}`);
      return subscriber;
    },

    /** A cluster's subscriber by email address (case and spaces do not matter). */
    findByEmail(cluster: Cluster, email: string): Subscriber {
      const subscriber = db
        .select()
        .from(subscribers)
        .where(and(eq(subscribers.clusterId, cluster.id), eq(subscribers.email, normaliseEmail(email))))
        .get();
      if (!subscriber) throw problem('SUBSCRIBER_NOT_FOUND', `${cluster.slug} has no subscriber ${normaliseEmail(email)}`);
      return subscriber;
    },

    /** The cluster a subscriber belongs to (for organiser routes addressed by subscriber id). */
    clusterOf(id: string): string | undefined {
      return db.select({ clusterId: subscribers.clusterId }).from(subscribers).where(eq(subscribers.id, id)).get()?.clusterId;
    },

    /** A page of a cluster's subscribers, in the order they signed up (optionally those whose address or name contains `search`). */
    list(
      cluster: Cluster,
      filter: { status?: SubscriberStatus; topic?: Topic; search?: string; cursor?: string; limit: number },
    ): Page<Subscriber> {
      const after = decodeCursor(filter.cursor, ['id']);
      const conditions: SQL[] = [eq(subscribers.clusterId, cluster.id)];
      if (filter.status) conditions.push(eq(subscribers.status, filter.status));
      if (filter.search) {
        const text = filter.search.toLowerCase();
        conditions.push(sql`(instr(${subscribers.email}, ${text}) > 0 OR instr(fold(coalesce(${subscribers.name}, '')), ${text}) > 0)`);
      }
      if (filter.topic) conditions.push(sql`EXISTS (SELECT 1 FROM json_each(${subscribers.topics}) WHERE value = ${filter.topic})`);
      if (after) conditions.push(gt(subscribers.id, after[0] as string));
      const rows = db
        .select()
        .from(subscribers)
        .where(and(...conditions))
        .orderBy(asc(subscribers.id))
        .limit(filter.limit + 1)
        .all();
      return pageOf(rows, filter.limit, (subscriber) => [subscriber.id]);
    },

    /** One subscriber by id (a prepared statement: the mail worker asks as it claims every newsletter message). */
    byId(_tx: DbOrTx, id: string): Subscriber | undefined {
      return byIdStatement.get({ id });
    },

    /** These subscribers by id, in the caller's transaction (a campaign checks each recipient again before sending). */
    getMany(_tx: DbOrTx, ids: string[]): Map<string, Subscriber> {
      if (ids.length === 0) return new Map();
      return new Map(byIdsStatement.all({ ids: JSON.stringify(ids) }).map((subscriber) => [subscriber.id, subscriber]));
    },

    /** How many of these subscribers have unsubscribed since `since` (a campaign's figures: who left after it went out). */
    unsubscribedSince(ids: string[], since: Date): number {
      let count = 0;
      for (const piece of chunks(ids)) {
        const row = db
          .select({ n: sql<number>`count(*)` })
          .from(subscribers)
          .where(and(inArray(subscribers.id, piece), eq(subscribers.status, 'unsubscribed'), gte(subscribers.unsubscribedAt, since)))
          .get();
        count += row?.n ?? 0;
      }
      return count;
    },

    /** Everything held about one person: the record, its consent events and the newsletters addressed to them. */
    export(subscriber: Subscriber) {
      const events = consent.eventsOf(subscriber.id);
      return { subscriber, events, deliveries: hooks.exported.emit(subscriber).flat() };
    },

    /**
     * Erases a person: the record goes, their consent events lose everything personal (IP, user agent),
     * and the address's hash is suppressed so no sign-up or import can make them a recipient again.
     * No copy is left in the database file (secure_delete, then a truncating checkpoint of the WAL);
     * returns false when another process's reader delayed the checkpoint (see forgetOldPages).
     */
    erase(subscriber: Subscriber, context: RequestContext, actor: Actor): boolean {
      immediate(db, (tx) => {
        const hash = emailHash(subscriber.email);
        consent.forgetRequester(tx, subscriber.id);
        // Copies of the address elsewhere go too: the outbox forgets the mail, other modules their own copies.
        outbox.forgetRecipient(tx, subscriber.clusterId, subscriber.email);
        hooks.erased.emit(tx, subscriber);
        tx.delete(subscribers).where(eq(subscribers.id, subscriber.id)).run();
        consent.suppress(tx, subscriber.clusterId, subscriber.email, 'erased');
        consent.forgetAddress(tx, subscriber.email);
        record(tx, null, 'erased', { ...context, clusterId: subscriber.clusterId, hash });
        audit.record(tx, actor, {
          clusterId: subscriber.clusterId,
          action: 'subscriber.erased',
          targetType: 'subscriber',
          targetId: subscriber.id,
        });
      });
      // secure_delete zeroed the rows in the new page images; the old ones are still in the WAL.
      return forgetOldPages(db);
    },

    isSuppressed,
    reasonNotToMail,
    suppressEverywhere: consent.suppressEverywhere,
    suppressions: suppressionList.list,
    liftSuppression: suppressionList.lift,

    /** The newsletter's mailto unsubscribe address for this subscriber, when RETURN_PATH_DOMAIN is set. */
    unsubscribeAddress(subscriberId: string): string | undefined {
      const domain = deps.site.returnPathDomain;
      return domain ? unsubscribeAddress(subscriberId, domain, deps.secretKey) : undefined;
    },

    /** What a mail to an address at the return-path domain names (shared/return-path.ts), or null. */
    readReturnAddress(address: string) {
      const domain = deps.site.returnPathDomain;
      return domain ? readReturnAddress(address, domain, deps.secretKey) : null;
    },

    /** A reply to the mailto unsubscribe address, in the caller's transaction: leaves every topic. Returns the subscriber, if still there. */
    unsubscribeByReply(tx: DbOrTx, subscriberId: string): Subscriber | undefined {
      const subscriber = tx.select().from(subscribers).where(eq(subscribers.id, subscriberId)).get();
      if (subscriber) leave(tx, subscriber, 'unsubscribed', { source: 'email-reply' });
      return subscriber;
    },

    /**
     * A spam complaint about mail to `email` (from `clusterId`, when known: else every cluster it is on),
     * in the caller's transaction: recorded in the consent ledger, and the person leaves that list.
     */
    complained(tx: DbOrTx, email: string, clusterId: string | null): Subscriber[] {
      const address = normaliseEmail(email);
      const rows = tx
        .select()
        .from(subscribers)
        .where(and(eq(subscribers.email, address), clusterId ? eq(subscribers.clusterId, clusterId) : undefined))
        .all();
      for (const subscriber of rows) leave(tx, subscriber, 'complained', { source: 'abuse-report' });
      return rows;
    },

    /** Confirmed subscribers of a topic who are not suppressed (invitations' "subscribers" audience, campaigns). */
    recipients(tx: DbOrTx, clusterId: string, topic: Topic, theme?: string) {
      const suppressed = consent.suppressedIn(tx, clusterId);
      return tx
        .select({ id: subscribers.id, email: subscribers.email, name: subscribers.name })
        .from(subscribers)
        .where(
          and(
            eq(subscribers.clusterId, clusterId),
            eq(subscribers.status, 'confirmed'),
            sql`EXISTS (SELECT 1 FROM json_each(${subscribers.topics}) WHERE value = ${topic})`,
            ...(theme
              ? [
                  or(
                    sql`json_array_length(${subscribers.themes}) = 0`,
                    sql`EXISTS (SELECT 1 FROM json_each(${subscribers.themes}) WHERE value = ${theme})`,
                  ),
                ]
              : []),
          ),
        )
        .orderBy(asc(subscribers.id))
        .all()
        .filter((row) => !suppressed.has(emailHash(row.email)));
    },
  };
}
