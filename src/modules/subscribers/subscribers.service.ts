// Newsletter subscribers: double opt-in sign-up, confirmation, preferences, one-click unsubscribe,
// and erasure. Every change writes the consent ledger (and its email) in the same transaction.
import { and, asc, eq, gt, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { rawPlaceholder, immediate, type Db, type DbOrTx } from '../../db/client.js';
import { subscribers, TOPICS, type Cluster, type Subscriber, type SubscriberStatus, type Topic } from '../../db/schema.js';
import { problem } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { hook } from '../../lib/hooks.js';
import { newId } from '../../lib/ids.js';
import type { TimedJob } from '../../lib/jobs.js';
import { decodeCursor, pageOf, type Page } from '../../lib/pagination.js';
import { signLink, verifyLink } from '../../lib/signed-links.js';
import { cleanName, isEmailAddress, normaliseEmail } from '../../lib/text.js';
import type { Site } from '../../shared/site.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { Outbox } from '../outbox/outbox.service.js';
import { createConsentLedger, emailHash, type RequestContext } from './subscribers.consent.js';
import { alreadySubscribedEmail, confirmationEmail } from './subscribers.emails.js';

export type { Subscriber };

/** One newsletter addressed to a person, as their export shows it. */
export interface DeliveryRecord {
  campaignId: string;
  /** pending, queued, sending, sent, failed or skipped */
  status: string;
  sentAt: Date | null;
}
export { CONSENT_WORDING_VERSION, emailHash, type ConsentSource, type RequestContext } from './subscribers.consent.js';

export const PENDING_DAYS = 30;
/** A repeat sign-up re-sends the confirmation at most this often per address. */
export const NOTICE_INTERVAL_MS = 10 * 60_000;

export const LINK_PURPOSES = { confirm: 'subscription-confirm', unsubscribe: 'unsubscribe', preferences: 'subscription-preferences' } as const;
export type LinkPurpose = keyof typeof LINK_PURPOSES;

export interface SignUp {
  email: string;
  name?: string;
  topics?: Topic[];
  themes?: string[];
}

export type SubscribersService = ReturnType<typeof createSubscribersService>;

export function createSubscribersService(deps: { db: Db; clock: Clock; outbox: Outbox; audit: AuditService; site: Site; secretKey: string }) {
  const { db, clock, outbox, audit } = deps;
  const hooks = {
    /** A person was erased: a module that keeps a copy of their address removes it, in the erasure's transaction. */
    erased: hook<[tx: DbOrTx, subscriber: Subscriber]>(),
    /** A person's export: each module answers with the newsletters it addressed to them. */
    exported: hook<[subscriber: Subscriber], DeliveryRecord[]>(),
  };

  const consent = createConsentLedger({ db, clock });
  const { record, isSuppressed } = consent;
  // The sign-up path is public and busy, so its statements are prepared once.
  const byEmailStatement = db
    .select()
    .from(subscribers)
    .where(and(eq(subscribers.clusterId, sql.placeholder('clusterId')), eq(subscribers.email, sql.placeholder('email'))))
    .prepare();
  const insertStatement = db
    .insert(subscribers)
    .values({ id: rawPlaceholder('id'), clusterId: rawPlaceholder('clusterId'), email: rawPlaceholder('email'), name: rawPlaceholder('name'), status: 'pending', topics: rawPlaceholder('topics'), themes: rawPlaceholder('themes'), createdAt: rawPlaceholder('now'), updatedAt: rawPlaceholder('now'), lastNoticeAt: rawPlaceholder('now') })
    .returning()
    .prepare();
  const noticeStatement = db
    .update(subscribers)
    .set({ lastNoticeAt: rawPlaceholder('at') })
    .where(eq(subscribers.id, sql.placeholder('id')))
    .prepare();

  function link(purpose: LinkPurpose, subscriberId: string): string {
    const path = { confirm: '/subscriptions/confirm', unsubscribe: '/unsubscribe', preferences: '/preferences' }[purpose];
    return `${deps.site.baseUrl}${path}?token=${encodeURIComponent(signLink(deps.secretKey, LINK_PURPOSES[purpose], subscriberId))}`;
  }

  function checkThemes(cluster: Cluster, themes: string[]): string[] {
    const unknown = themes.filter((theme) => !cluster.themes.includes(theme));
    if (unknown.length > 0) throw problem('VALIDATION_FAILED', `themes ${unknown.join(', ')} are not among the cluster's (${cluster.themes.join(', ')})`, { errors: [{ field: 'body/themes', message: 'has unknown themes' }] });
    return [...new Set(themes)];
  }

  function sendConfirmation(tx: DbOrTx, cluster: Cluster, subscriber: Subscriber) {
    outbox.enqueue(tx, { kind: 'subscription.confirm', to: subscriber.email, clusterId: cluster.id, ...confirmationEmail({ clusterName: cluster.name, topics: subscriber.topics, url: link('confirm', subscriber.id) }) });
    const now = clock.now();
    // A new row was written with this notice time already.
    if (subscriber.lastNoticeAt?.getTime() !== now.getTime()) noticeStatement.run({ id: subscriber.id, at: now.getTime() });
  }

  /** The subscriber behind a signed link of this purpose, or undefined when the link is not genuine. */
  function fromLink(purpose: LinkPurpose, token: string): Subscriber | undefined {
    const id = verifyLink(deps.secretKey, LINK_PURPOSES[purpose], token);
    return id ? db.select().from(subscribers).where(eq(subscribers.id, id)).get() : undefined;
  }

  function pendingExpired(subscriber: Subscriber, now: Date): boolean {
    return subscriber.status === 'pending' && now.getTime() - subscriber.createdAt.getTime() > PENDING_DAYS * 86_400_000;
  }

  /** The worker's job: pending sign-ups older than 30 days are removed (their ledger entries stay). */
  function expirePending(): number {
    const cutoff = new Date(clock.now().getTime() - PENDING_DAYS * 86_400_000);
    return db.delete(subscribers).where(and(eq(subscribers.status, 'pending'), lt(subscribers.createdAt, cutoff))).run().changes;
  }

  // A newsletter refused for good suppresses its address in that cluster.
  outbox.hooks.refused.on((row) => {
    if (row.kind !== 'newsletter' || !row.clusterId) return;
    consent.suppress(db, row.clusterId, row.toAddress, 'bounced');
  });

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

    /**
     * Handles a sign-up. The caller answers 202 before this runs, whatever the address's state:
     * new (or unsubscribed) addresses get a confirmation; pending ones get it again; confirmed ones get
     * an "already subscribed" note with their preferences link; suppressed addresses get nothing.
     * Repeats within NOTICE_INTERVAL_MS send nothing.
     */
    signUp(cluster: Cluster, input: SignUp, context: RequestContext): void {
      const email = normaliseEmail(input.email);
      if (!isEmailAddress(email)) return;
      const topics = [...new Set(input.topics && input.topics.length > 0 ? input.topics : (['newsletter'] as Topic[]))];
      const themes = checkThemes(cluster, input.themes ?? []);
      const name = input.name !== undefined ? cleanName(input.name) : null;
      immediate(db, (tx) => {
        if (isSuppressed(tx, cluster.id, email)) return;
        const now = clock.now();
        let subscriber: Subscriber | undefined = byEmailStatement.get({ clusterId: cluster.id, email });
        const recentlyTold = subscriber?.lastNoticeAt && now.getTime() - subscriber.lastNoticeAt.getTime() < NOTICE_INTERVAL_MS;
        if (subscriber?.status === 'confirmed') {
          if (recentlyTold) return;
          outbox.enqueue(tx, { kind: 'subscription.already', to: email, clusterId: cluster.id, ...alreadySubscribedEmail({ clusterName: cluster.name, url: link('preferences', subscriber.id) }) });
          tx.update(subscribers).set({ lastNoticeAt: now }).where(eq(subscribers.id, subscriber.id)).run();
          return;
        }
        if (subscriber && pendingExpired(subscriber, now)) {
          tx.delete(subscribers).where(eq(subscribers.id, subscriber.id)).run();
          subscriber = undefined;
        }
        if (!subscriber) {
          subscriber = insertStatement.get({ id: newId(), clusterId: cluster.id, email, name, topics: JSON.stringify(topics), themes: JSON.stringify(themes), now: now.getTime() })!;
        } else {
          if (recentlyTold) return;
          // Pending again (or re-subscribing after leaving): the newest choice of topics counts once confirmed.
          subscriber = tx
            .update(subscribers)
            .set({ status: 'pending', topics, themes, name: name ?? subscriber.name, updatedAt: now, ...(subscriber.status === 'unsubscribed' ? { createdAt: now } : {}) })
            .where(eq(subscribers.id, subscriber.id))
            .returning()
            .get()!;
        }
        record(tx, subscriber, 'requested', { ...context, topics });
        sendConfirmation(tx, cluster, subscriber);
      });
    },

    /** Confirms a pending subscription (the POST behind the confirmation email's button). */
    confirm(subscriber: Subscriber, context: RequestContext): Subscriber {
      return immediate(db, (tx) => {
        const current = tx.select().from(subscribers).where(eq(subscribers.id, subscriber.id)).get();
        if (!current) throw problem('SUBSCRIBER_NOT_FOUND');
        if (current.status === 'confirmed') return current;
        if (current.status !== 'pending' || pendingExpired(current, clock.now())) throw problem('CONFIRMATION_EXPIRED', 'This confirmation link has expired: sign up again');
        const now = clock.now();
        const confirmed = tx.update(subscribers).set({ status: 'confirmed', confirmedAt: now, unsubscribedAt: null, updatedAt: now }).where(eq(subscribers.id, current.id)).returning().get()!;
        record(tx, confirmed, 'confirmed', { ...context, topics: confirmed.topics });
        return confirmed;
      });
    },

    /** Unsubscribes from everything. Idempotent: a second call changes nothing and records nothing. */
    unsubscribe(subscriber: Subscriber, context: RequestContext): Subscriber {
      return immediate(db, (tx) => {
        const current = tx.select().from(subscribers).where(eq(subscribers.id, subscriber.id)).get();
        if (!current) throw problem('SUBSCRIBER_NOT_FOUND');
        if (current.status === 'unsubscribed') return current;
        const now = clock.now();
        const after = tx.update(subscribers).set({ status: 'unsubscribed', unsubscribedAt: now, updatedAt: now }).where(eq(subscribers.id, current.id)).returning().get()!;
        record(tx, after, 'unsubscribed', context);
        return after;
      });
    },

    updatePreferences(subscriber: Subscriber, cluster: Cluster, choice: { topics: Topic[]; themes: string[] }, context: RequestContext): Subscriber {
      const topics = [...new Set(choice.topics.filter((topic) => (TOPICS as readonly string[]).includes(topic)))];
      const themes = checkThemes(cluster, choice.themes);
      return immediate(db, (tx) => {
        const now = clock.now();
        // No topic left is the same as leaving.
        // Ticking topics again after leaving re-subscribes: the signed link proves the address is theirs.
        const status: SubscriberStatus = topics.length === 0 ? 'unsubscribed' : subscriber.status === 'unsubscribed' ? 'confirmed' : subscriber.status;
        const after = tx
          .update(subscribers)
          .set({ topics: topics.length === 0 ? subscriber.topics : topics, themes, status, updatedAt: now, ...(status === 'unsubscribed' && subscriber.status !== 'unsubscribed' ? { unsubscribedAt: now } : {}) })
          .where(eq(subscribers.id, subscriber.id))
          .returning()
          .get()!;
        record(tx, after, status === 'unsubscribed' && subscriber.status !== 'unsubscribed' ? 'unsubscribed' : 'preferences-changed', { ...context, topics });
        return after;
      });
    },

    get(cluster: Cluster, id: string): Subscriber {
      const subscriber = db.select().from(subscribers).where(eq(subscribers.id, id)).get();
      if (!subscriber || subscriber.clusterId !== cluster.id) throw problem('SUBSCRIBER_NOT_FOUND', `There is no subscriber ${id}`);
      return subscriber;
    },

    /** The cluster a subscriber belongs to (for organiser routes addressed by subscriber id). */
    clusterOf(id: string): string | undefined {
      return db.select({ clusterId: subscribers.clusterId }).from(subscribers).where(eq(subscribers.id, id)).get()?.clusterId;
    },

    /** A page of a cluster's subscribers, in the order they signed up. */
    list(cluster: Cluster, filter: { status?: SubscriberStatus; topic?: Topic; cursor?: string; limit: number }): Page<Subscriber> {
      const after = decodeCursor(filter.cursor, ['id']);
      const conditions: SQL[] = [eq(subscribers.clusterId, cluster.id)];
      if (filter.status) conditions.push(eq(subscribers.status, filter.status));
      if (filter.topic) conditions.push(sql`EXISTS (SELECT 1 FROM json_each(${subscribers.topics}) WHERE value = ${filter.topic})`);
      if (after) conditions.push(gt(subscribers.id, after[0] as string));
      const rows = db.select().from(subscribers).where(and(...conditions)).orderBy(asc(subscribers.id)).limit(filter.limit + 1).all();
      return pageOf(rows, filter.limit, (subscriber) => [subscriber.id]);
    },

    /** These subscribers by id, in the caller's transaction (a campaign checks each recipient again before sending). */
    getMany(tx: DbOrTx, ids: string[]): Map<string, Subscriber> {
      if (ids.length === 0) return new Map();
      return new Map(tx.select().from(subscribers).where(inArray(subscribers.id, ids)).all().map((subscriber) => [subscriber.id, subscriber]));
    },

    /** Everything held about one person: the record, its consent events and the newsletters addressed to them. */
    export(subscriber: Subscriber) {
      const events = consent.eventsOf(subscriber.id);
      return { subscriber, events, deliveries: hooks.exported.emit(subscriber).flat() };
    },

    /**
     * Erases a person: the record goes, their consent events lose everything personal (IP, user agent),
     * and the address's hash is suppressed so no sign-up or import can make them a recipient again.
     */
    erase(subscriber: Subscriber, context: RequestContext, actor: Actor): void {
      immediate(db, (tx) => {
        const hash = emailHash(subscriber.email);
        consent.forgetRequester(tx, subscriber.id);
        // Copies of the address elsewhere go too: the outbox forgets the mail, other modules their own copies.
        outbox.forgetRecipient(tx, subscriber.clusterId, subscriber.email);
        hooks.erased.emit(tx, subscriber);
        tx.delete(subscribers).where(eq(subscribers.id, subscriber.id)).run();
        consent.suppress(tx, subscriber.clusterId, subscriber.email, 'erased');
        record(tx, null, 'erased', { ...context, clusterId: subscriber.clusterId, hash });
        audit.record(tx, actor, { clusterId: subscriber.clusterId, action: 'subscriber.erased', targetType: 'subscriber', targetId: subscriber.id });
      });
    },

    isSuppressed,

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
            ...(theme ? [sql`(json_array_length(${subscribers.themes}) = 0 OR EXISTS (SELECT 1 FROM json_each(${subscribers.themes}) WHERE value = ${theme}))`] : []),
          ),
        )
        .orderBy(asc(subscribers.id))
        .all()
        .filter((row) => !suppressed.has(emailHash(row.email)));
    },
  };
}
