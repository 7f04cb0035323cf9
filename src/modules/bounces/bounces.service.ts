// What comes back after a send: bounces, complaints and unsubscribe replies, from the inbound SMTP
// listener, `convene mail ingest` or a provider's webhook. Each is matched to the message it is about
// (its return path or its Message-ID) and acted on in one transaction: a hard bounce and a complaint
// suppress the address in every cluster at once (a complaint also records a consent event and the
// person leaves that list); soft bounces suppress after SOFT_BOUNCE_LIMIT in 30 days; the campaign's
// figures count them. A report about no message of ours changes nothing: anyone can send mail.
import { and, eq, gte, sql } from 'drizzle-orm';
import { immediate, type Db, type DbOrTx } from '../../db/client.js';
import { bounces, type BounceKind } from '../../db/schema.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import { redactText } from '../../lib/logging.js';
import { parseMailbox } from '../../lib/text.js';
import type { CampaignsService } from '../campaigns/campaigns.service.js';
import type { MessageRef, Outbox } from '../outbox/outbox.service.js';
import { emailHash, type SubscribersService } from '../subscribers/subscribers.service.js';
import { findingOfMailgun, isSignedByMailgun, type MailgunSignature } from './bounces.mailgun.js';
import { classify, enhancedStatus, findingsOf, readReport } from './bounces.reports.js';
import type { Finding, Outcome } from './bounces.types.js';

export type { Finding, Outcome };

/** Soft bounces are counted over this window. */
export const SOFT_BOUNCE_WINDOW_MS = 30 * 86_400_000;
/** A report larger than this is not a bounce anyone needs to read whole. */
export const MAX_REPORT_BYTES = 1_000_000;

export type BouncesService = ReturnType<typeof createBouncesService>;

export function createBouncesService(deps: {
  db: Db;
  clock: Clock;
  outbox: Outbox;
  subscribers: SubscribersService;
  campaigns: CampaignsService;
  softBounceLimit: number;
  mailgunSigningKey: string | undefined;
}) {
  const { db, clock, outbox, subscribers, campaigns } = deps;
  // Mailgun tokens seen lately: a signed request is acted on once, however often it is replayed.
  const seenTokens = new Map<string, number>();

  const addressOf = (message: MessageRef) => parseMailbox(message.toAddress, { allowLocalhost: true })?.address ?? message.toAddress;

  function softBouncesOf(tx: DbOrTx, hash: string): number {
    const since = new Date(clock.now().getTime() - SOFT_BOUNCE_WINDOW_MS);
    return tx
      .select({ n: sql<number>`count(*)` })
      .from(bounces)
      .where(and(eq(bounces.emailHash, hash), eq(bounces.kind, 'soft'), gte(bounces.at, since)))
      .get()!.n;
  }

  /** Acts on one finding in the caller's transaction. `trusted`: the source is authenticated (a signed webhook), so an address alone will do. */
  function apply(tx: DbOrTx, finding: Finding, via: string, trusted: boolean): Outcome {
    if (finding.kind === 'unsubscribe') {
      const subscriber = finding.subscriberId ? subscribers.unsubscribeByReply(tx, finding.subscriberId) : undefined;
      if (!subscriber) return { kind: 'unsubscribe', email: null, result: 'nobody: the subscriber is no longer on any list' };
      record(tx, finding.kind, via, null, subscriber.clusterId, emailHash(subscriber.email), finding.detail);
      return { kind: 'unsubscribe', email: subscriber.email, result: 'unsubscribed' };
    }
    const message = finding.message ? outbox.find(finding.message) : undefined;
    if (!message && !(trusted && finding.email))
      return { kind: finding.kind, email: finding.email ?? null, result: 'nothing: it is about no message sent from here' };
    // The address we sent to, whatever a forwarding server calls it now.
    const email = message ? addressOf(message) : finding.email!;
    const hash = emailHash(email);
    // What a mail server says often quotes the address: the history keeps it without (it outlives an erasure).
    const detail = redactText(finding.detail);
    if (!record(tx, finding.kind, via, message?.id ?? null, message?.clusterId ?? null, hash, detail))
      return { kind: finding.kind, email, result: 'nothing new: this message was reported already' };
    if (finding.kind === 'blocked')
      return { kind: 'blocked', email, result: 'recorded: refused by policy or a spam filter, which says nothing about the address' };
    // A refusal while sending is already counted as failed, not as a bounce after sending.
    const returned = { hard: 'bounced', soft: 'soft-bounced', complaint: 'complained' } as const;
    const campaignId = message && via !== 'smtp-refusal' ? campaigns.markReturned(tx, message.id, returned[finding.kind]) : undefined;
    const at = campaignId ? { campaignId } : {};
    if (finding.kind === 'hard') {
      subscribers.suppressEverywhere(tx, email, 'bounced', detail);
      return { kind: 'hard', email, result: 'suppressed in every cluster', ...at };
    }
    if (finding.kind === 'complaint') {
      subscribers.suppressEverywhere(tx, email, 'complained', detail);
      const left = subscribers.complained(tx, email, message?.clusterId ?? null);
      return { kind: 'complaint', email, result: `suppressed in every cluster; ${left.length} subscription(s) ended`, ...at };
    }
    const count = softBouncesOf(tx, hash);
    if (count >= deps.softBounceLimit) {
      subscribers.suppressEverywhere(tx, email, 'soft-bounced', `${count} soft bounces in 30 days; the last: ${detail}`);
      return { kind: 'soft', email, result: `suppressed in every cluster after ${count} soft bounces`, ...at };
    }
    return { kind: 'soft', email, result: `counted (${count} of ${deps.softBounceLimit} in 30 days)`, ...at };
  }

  /** Writes the history row; false when this message already has one of this kind (a report delivered twice). */
  function record(
    tx: DbOrTx,
    kind: BounceKind,
    via: string,
    outboxId: string | null,
    clusterId: string | null,
    hash: string,
    detail: string,
  ) {
    return (
      tx
        .insert(bounces)
        .values({ id: newId(), kind, via, outboxId, clusterId, emailHash: hash, detail, at: clock.now() })
        .onConflictDoNothing()
        .run().changes > 0
    );
  }

  // A newsletter whose recipient the mail server refused for good as it was sent (RCPT TO: a refusal of
  // the sender or of the content says nothing about the address) is a bounce too, classified the same way.
  outbox.hooks.refused.on((tx, row, refusal) => {
    if (row.kind !== 'newsletter' || refusal.command !== 'RCPT TO') return;
    const kind = classify(enhancedStatus(refusal.response), refusal.response);
    apply(tx, { kind, message: { id: row.id }, detail: refusal.response || 'refused as it was sent' }, 'smtp-refusal', false);
  });

  return {
    /**
     * A message that came back (an .eml file, the inbound listener's DATA): what it says, and what was done.
     * `recipients`: the envelope's, when known (the listener's RCPT TO, or `--recipient`).
     */
    async ingest(raw: Buffer, options: { via: string; recipients?: string[] }): Promise<{ outcomes: Outcome[]; ignored?: string }> {
      const report = await readReport(raw.subarray(0, MAX_REPORT_BYTES), options.recipients);
      const findings = findingsOf(report, (address) => subscribers.readReturnAddress(address));
      if (!Array.isArray(findings)) return { outcomes: [], ignored: findings.ignored };
      return { outcomes: immediate(db, (tx) => findings.map((finding) => apply(tx, finding, options.via, false))) };
    },

    /** Whether Mailgun's webhook is configured. */
    mailgunEnabled: deps.mailgunSigningKey !== undefined,

    /** One Mailgun webhook request: null when its signature is not Mailgun's (or is old, or was used already). */
    mailgun(signature: MailgunSignature, eventData: Record<string, unknown>): { outcomes: Outcome[]; ignored?: string } | null {
      const key = deps.mailgunSigningKey;
      const now = clock.now();
      if (!key || !isSignedByMailgun(key, signature, now)) return null;
      for (const [token, at] of seenTokens) if (now.getTime() - at > 2 * 5 * 60_000) seenTokens.delete(token);
      if (seenTokens.has(signature.token)) return { outcomes: [], ignored: 'this request was received already' };
      const finding = findingOfMailgun(eventData);
      const answer =
        'ignored' in finding
          ? { outcomes: [], ignored: finding.ignored }
          : { outcomes: [immediate(db, (tx) => apply(tx, finding, 'webhook:mailgun', true))] };
      // Only once it has been acted on: a request that failed (the database busy) is acted on when Mailgun retries it.
      seenTokens.set(signature.token, now.getTime());
      return answer;
    },
  };
}
