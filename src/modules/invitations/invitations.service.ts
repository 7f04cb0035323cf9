// Invitations: who is invited to a huddle, and the calendar emails they get when it is created, changed or cancelled.
import { and, eq, inArray } from 'drizzle-orm';
import { immediate, type Db, type DbOrTx } from '../../db/client.js';
import { invitations, type Cluster, type Huddle } from '../../db/schema.js';
import { problem } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import { isEmailAddress, normaliseEmail } from '../../lib/text.js';
import { eventContext, renderCalendar, renderEvent, type CalendarMethod } from '../../shared/calendar.js';
import { huddlePageUrl } from '../../shared/calendar-links.js';
import type { Site } from '../../shared/site.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import { changedText, noticeOf, type HuddlesService } from '../huddles/huddles.service.js';
import type { Outbox } from '../outbox/outbox.service.js';
import { SUBSCRIBER_INVITATION_KIND, type SubscribersService } from '../subscribers/subscribers.service.js';
import { invitationEmail, type InvitationKind } from './invitations.render.js';

export interface Recipient {
  email: string;
  name?: string | null;
}

/** Finds the people of a named audience in a cluster; other modules (members, subscribers) register one. */
export type AudienceResolver = (tx: DbOrTx, clusterId: string) => Recipient[];

export const AUDIENCES = ['members', 'subscribers'] as const;
export type AudienceName = (typeof AUDIENCES)[number];

export const MAX_ADDRESSES = 500;

export interface InviteRequest {
  audience?: AudienceName;
  addresses?: { email: string; name?: string }[];
}

export type InvitationsService = ReturnType<typeof createInvitationsService>;

export function createInvitationsService(deps: {
  db: Db;
  clock: Clock;
  outbox: Outbox;
  audit: AuditService;
  clusters: ClustersService;
  huddles: HuddlesService;
  site: Site;
  /** Where each audience's people come from (members, subscribers): given by createServices. */
  audiences: Partial<Record<AudienceName, AudienceResolver>>;
  /** Erasures to react to (the subscribers' hooks). */
  subscribers?: Pick<SubscribersService, 'hooks'>;
}) {
  const { db, clock, outbox, audit } = deps;

  // An erased subscriber's address leaves the invitations they had as a subscriber of that cluster (an
  // organiser who typed the address in, or a member's own invitation, is another record and stays).
  deps.subscribers?.hooks.erased.on((tx, subscriber) => {
    const rows = tx
      .select({ id: invitations.id, huddleId: invitations.huddleId })
      .from(invitations)
      .where(and(eq(invitations.email, subscriber.email), eq(invitations.source, 'subscribers')))
      .all();
    const clusterOf = deps.huddles.getMany(
      tx,
      rows.map((row) => row.huddleId),
    );
    const ids = rows.filter((row) => clusterOf.get(row.huddleId)?.clusterId === subscriber.clusterId).map((row) => row.id);
    if (ids.length > 0) tx.delete(invitations).where(inArray(invitations.id, ids)).run();
  });

  /** One email with a METHOD:REQUEST or CANCEL calendar part naming the recipient as ATTENDEE. */
  function send(
    tx: DbOrTx,
    message: { kind: InvitationKind; huddle: Huddle; cluster: Cluster; recipient: Recipient; changed?: string; toSubscriber?: boolean },
  ) {
    const { kind, huddle, cluster, recipient } = message;
    const method: CalendarMethod = kind === 'cancellation' ? 'CANCEL' : 'REQUEST';
    const event = renderEvent(huddle, eventContext(cluster, deps.site), {
      audience: 'private',
      stamp: clock.now(),
      attendee: recipient,
    });
    const calendar = renderCalendar({ name: cluster.name, method }, [event]);
    const email = invitationEmail(kind, huddle, cluster.name, huddlePageUrl(deps.site.baseUrl, huddle.id), message.changed);
    outbox.enqueue(tx, {
      // A subscriber's invitation leaves only if they still want invitations when it does (subscribers checks).
      kind: message.toSubscriber ? SUBSCRIBER_INVITATION_KIND : `huddle.${kind}`,
      to: recipient.email,
      clusterId: cluster.id,
      ...email,
      ...(cluster.contactEmail ? { replyTo: cluster.contactEmail } : {}),
      calendar: { method, content: calendar },
    });
  }

  /** Everyone the request names, once each, with how they were named (by address wins over an audience). */
  function recipientsOf(tx: DbOrTx, cluster: Cluster, request: InviteRequest): (Recipient & { source: string })[] {
    const recipients: (Recipient & { source: string })[] = [];
    if (request.audience) {
      const resolve = deps.audiences[request.audience];
      if (!resolve)
        throw problem('VALIDATION_FAILED', `The ${request.audience} audience is not available yet`, {
          errors: [{ field: 'body/audience', message: 'is not available' }],
        });
      recipients.push(...resolve(tx, cluster.id).map((recipient) => ({ ...recipient, source: request.audience! })));
    }
    for (const [index, address] of (request.addresses ?? []).entries()) {
      const email = normaliseEmail(address.email);
      if (!isEmailAddress(email))
        throw problem('VALIDATION_FAILED', `addresses/${index}/email is not an email address`, {
          errors: [{ field: `body/addresses/${index}/email`, message: 'is not an email address' }],
        });
      recipients.push({ email, name: address.name?.trim() || null, source: 'addresses' });
    }
    // The same person once, however many ways they were named.
    return [...new Map(recipients.map((r) => [normaliseEmail(r.email), { ...r, email: normaliseEmail(r.email) }])).values()];
  }

  // Everyone invited hears of any change their calendar shows (pitch slots are the pitchers' business).
  deps.huddles.hooks.changed.on((tx, change) => {
    const notice = noticeOf(change);
    if (!notice) return;
    const invited = tx.select().from(invitations).where(eq(invitations.huddleId, change.after.id)).all();
    if (invited.length === 0) return;
    const cluster = deps.clusters.getById(change.after.clusterId);
    const changed = changedText(change.changed);
    for (const person of invited)
      send(tx, { kind: notice === 'cancelled' ? 'cancellation' : 'update', huddle: change.after, cluster, recipient: person, changed });
  });

  return {
    /** Invites people who are not invited yet; each gets one email. Returns how many were new. */
    invite(huddle: Huddle, request: InviteRequest, actor: Actor): { invited: number; alreadyInvited: number } {
      if (huddle.status === 'cancelled') throw problem('HUDDLE_CANCELLED', 'This huddle is cancelled: nobody can be invited to it');
      if (huddle.status !== 'published') throw problem('HUDDLE_NOT_PUBLISHED', 'Publish the huddle before inviting people');
      if (!request.audience && !request.addresses?.length) throw problem('VALIDATION_FAILED', 'Give an audience or a list of addresses');
      const cluster = deps.clusters.getById(huddle.clusterId);
      return immediate(db, (tx) => {
        const recipients = recipientsOf(tx, cluster, request);
        let invited = 0;
        for (const recipient of recipients) {
          const inserted = tx
            .insert(invitations)
            .values({
              id: newId(),
              huddleId: huddle.id,
              email: recipient.email,
              name: recipient.name ?? null,
              source: recipient.source,
              createdAt: clock.now(),
            })
            .onConflictDoNothing({ target: [invitations.huddleId, invitations.email] })
            .run();
          if (inserted.changes === 0) continue;
          invited += 1;
          send(tx, { kind: 'invitation', huddle, cluster, recipient, toSubscriber: recipient.source === 'subscribers' });
        }
        audit.record(tx, actor, {
          clusterId: cluster.id,
          action: 'huddle.invited',
          targetType: 'huddle',
          targetId: huddle.id,
          after: { audience: request.audience ?? null, addresses: request.addresses?.length ?? 0, invited },
        });
        return { invited, alreadyInvited: recipients.length - invited };
      });
    },

    list(huddleId: string) {
      return db.select().from(invitations).where(eq(invitations.huddleId, huddleId)).all();
    },

    /** The addresses invited to a huddle (registrations leave them out of their own notices: the invitation's update tells them). */
    invitedEmails(tx: DbOrTx, huddleId: string): Set<string> {
      return new Set(
        tx
          .select({ email: invitations.email })
          .from(invitations)
          .where(eq(invitations.huddleId, huddleId))
          .all()
          .map((row) => row.email),
      );
    },
  };
}
