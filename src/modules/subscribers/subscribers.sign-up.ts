// The public sign-up, double opt-in: whatever the address's state the caller has answered 202 already;
// new (or unsubscribed) addresses get a confirmation link, pending ones get it again, confirmed ones an
// "already subscribed" note with their preferences link, suppressed ones nothing; repeats within
// NOTICE_INTERVAL_MS send nothing. Nothing is ever sent to an address that has not confirmed.
import { eq, and, sql } from 'drizzle-orm';
import { immediate, rawPlaceholder, type Db, type DbOrTx } from '../../db/client.js';
import { subscribers, type Cluster, type Subscriber, type Topic } from '../../db/schema.js';
import { problem } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import { cleanName, isEmailAddress, normaliseEmail } from '../../lib/text.js';
import type { Outbox } from '../outbox/outbox.service.js';
import type { createConsentLedger, RequestContext } from './subscribers.consent.js';
import { alreadySubscribedEmail, confirmationEmail } from './subscribers.emails.js';

/** A pending sign-up lapses (and is removed by a timed job) after this many days. */
export const PENDING_DAYS = 30;
/** A repeat sign-up re-sends the confirmation at most this often per address. */
export const NOTICE_INTERVAL_MS = 10 * 60_000;

export interface SignUp {
  email: string;
  name?: string;
  topics?: Topic[];
  themes?: string[];
}

export function pendingExpired(subscriber: Subscriber, now: Date): boolean {
  return subscriber.status === 'pending' && now.getTime() - subscriber.createdAt.getTime() > PENDING_DAYS * 86_400_000;
}

/** Themes must come from the cluster's vocabulary; each once. */
export function checkThemes(cluster: Cluster, themes: string[]): string[] {
  const unknown = themes.filter((theme) => !cluster.themes.includes(theme));
  if (unknown.length > 0)
    throw problem('VALIDATION_FAILED', `themes ${unknown.join(', ')} are not among the cluster's (${cluster.themes.join(', ')})`, {
      errors: [{ field: 'body/themes', message: 'has unknown themes' }],
    });
  return [...new Set(themes)];
}

export function createSignUp(deps: {
  db: Db;
  clock: Clock;
  outbox: Outbox;
  consent: ReturnType<typeof createConsentLedger>;
  link: (purpose: 'confirm' | 'preferences', subscriberId: string) => string;
}) {
  const { db, clock, outbox, consent, link } = deps;
  // The sign-up path is public and busy, so its statements are prepared once.
  const byEmailStatement = db
    .select()
    .from(subscribers)
    .where(and(eq(subscribers.clusterId, sql.placeholder('clusterId')), eq(subscribers.email, sql.placeholder('email'))))
    .prepare();
  const insertStatement = db
    .insert(subscribers)
    .values({
      id: rawPlaceholder('id'),
      clusterId: rawPlaceholder('clusterId'),
      email: rawPlaceholder('email'),
      name: rawPlaceholder('name'),
      status: 'pending',
      topics: rawPlaceholder('topics'),
      themes: rawPlaceholder('themes'),
      createdAt: rawPlaceholder('now'),
      updatedAt: rawPlaceholder('now'),
      lastNoticeAt: rawPlaceholder('now'),
    })
    .prepare();
  const noticeStatement = db
    .update(subscribers)
    .set({ lastNoticeAt: rawPlaceholder('at') })
    .where(eq(subscribers.id, sql.placeholder('id')))
    .prepare();

  /** `now` is the sign-up's one timestamp: a new row was written with it as its notice time already. */
  function sendConfirmation(tx: DbOrTx, cluster: Cluster, subscriber: Subscriber, now: Date) {
    outbox.enqueue(tx, {
      kind: 'subscription.confirm',
      to: subscriber.email,
      clusterId: cluster.id,
      ...confirmationEmail({ clusterName: cluster.name, topics: subscriber.topics, url: link('confirm', subscriber.id) }),
    });
    if (subscriber.lastNoticeAt?.getTime() !== now.getTime()) noticeStatement.run({ id: subscriber.id, at: now.getTime() });
  }

  return {
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
        if (consent.isSuppressed(tx, cluster.id, email)) return;
        const now = clock.now();
        let subscriber: Subscriber | undefined = byEmailStatement.get({ clusterId: cluster.id, email });
        const recentlyTold = subscriber?.lastNoticeAt && now.getTime() - subscriber.lastNoticeAt.getTime() < NOTICE_INTERVAL_MS;
        if (subscriber?.status === 'confirmed') {
          if (recentlyTold) return;
          outbox.enqueue(tx, {
            kind: 'subscription.already',
            to: email,
            clusterId: cluster.id,
            ...alreadySubscribedEmail({ clusterName: cluster.name, url: link('preferences', subscriber.id) }),
          });
          tx.update(subscribers).set({ lastNoticeAt: now }).where(eq(subscribers.id, subscriber.id)).run();
          return;
        }
        if (subscriber && pendingExpired(subscriber, now)) {
          tx.delete(subscribers).where(eq(subscribers.id, subscriber.id)).run();
          subscriber = undefined;
        }
        if (!subscriber) {
          // The row as written (no RETURNING: nothing in it comes from the database).
          subscriber = {
            id: newId(),
            clusterId: cluster.id,
            email,
            name,
            status: 'pending',
            topics,
            themes,
            createdAt: now,
            updatedAt: now,
            confirmedAt: null,
            unsubscribedAt: null,
            lastNoticeAt: now,
          };
          insertStatement.run({ ...subscriber, topics: JSON.stringify(topics), themes: JSON.stringify(themes), now: now.getTime() });
        } else {
          if (recentlyTold) return;
          // Pending again (or re-subscribing after leaving): the newest choice of topics counts once confirmed.
          subscriber = tx
            .update(subscribers)
            .set({
              status: 'pending',
              topics,
              themes,
              name: name ?? subscriber.name,
              updatedAt: now,
              ...(subscriber.status === 'unsubscribed' ? { createdAt: now } : {}),
            })
            .where(eq(subscribers.id, subscriber.id))
            .returning()
            .get()!;
        }
        consent.record(tx, subscriber, 'requested', { ...context, topics });
        sendConfirmation(tx, cluster, subscriber, now);
      });
    },
  };
}
