// Members of a cluster: added by organisers (API or CSV import), listed, updated and suspended.
import { and, asc, eq, gt, inArray, sql, type SQL } from 'drizzle-orm';
import { immediate, type Db, type DbOrTx } from '../../db/client.js';
import { fastRows } from '../../db/rows.js';
import { members, memberTokens, type Member, type MemberStatus, type OrganisationType } from '../../db/schema.js';
import { isAppError, problem } from '../../errors.js';
import { chunks } from '../../lib/chunks.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import { decodeCursor, pageOf, type Page } from '../../lib/pagination.js';
import { cleanName, isEmailAddress, normaliseEmail } from '../../lib/text.js';
import { hook } from '../../lib/hooks.js';
import { hashToken } from '../../lib/tokens.js';
import type { Site } from '../../shared/site.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { Cluster } from '../clusters/clusters.service.js';
import type { Outbox } from '../outbox/outbox.service.js';
import { feedToken, feedTokenHash } from './members.feed-token.js';
import { signInUrl, welcomeEmail } from './members.emails.js';
import type { SignIn } from './members.sign-in.js';
import type { CsvRejection, CsvRow, NewMember } from './members.types.js';

export type { Member };

export type { NewMember };

export interface MemberChanges {
  name?: string;
  organisation?: string;
  organisationType?: OrganisationType;
  status?: MemberStatus;
}

export interface MemberFilter {
  status?: MemberStatus;
  organisationType?: OrganisationType;
  /** Only members whose name, email or organisation contains this (any case). */
  search?: string;
  /** From a previous page's nextCursor. */
  cursor?: string;
  limit: number;
}

/**
 * Only an active member may book, accept an offer or cancel a pitch themselves: a suspended one is
 * refused whether they come with a token or through a link in an email sent before the suspension.
 */
export function mustBeActive(member: Pick<Member, 'status'>): void {
  if (member.status !== 'active')
    throw problem('FORBIDDEN', 'Your membership is suspended, so you cannot do this; please contact the organisers');
}

/** A welcome link is for someone who has not seen Convene yet: it stays valid for a week. */
export const WELCOME_CODE_MINUTES = 7 * 24 * 60;

export type MembersService = ReturnType<typeof createMembersService>;

export function createMembersService(deps: {
  db: Db;
  clock: Clock;
  audit: AuditService;
  outbox: Outbox;
  signIn: SignIn;
  site: Site;
  secretKey: string;
}) {
  const { db, clock, audit, outbox } = deps;
  const hooks = {
    /**
     * An active member was suspended, in that transaction (their status is suspended already): the
     * waitlist withdraws their offers and places, bookings cancel their pitches still to come.
     */
    suspended: hook<[tx: DbOrTx, member: Member, actor: Actor]>(),
  };

  const byId = fastRows(
    db
      .select()
      .from(members)
      .where(eq(members.id, sql.placeholder('id')))
      .prepare(),
  );
  const byFeedHash = db
    .select()
    .from(members)
    .where(eq(members.feedTokenHash, sql.placeholder('hash')))
    .prepare();

  function checkText(value: string, field: string, max: number): string {
    const clean = cleanName(value, max);
    if (!clean)
      throw problem('VALIDATION_FAILED', `${field} must be 1-${max} characters on one line`, {
        errors: [{ field: `body/${field}`, message: 'is not valid' }],
      });
    return clean;
  }

  function snapshot(member: Member) {
    return {
      email: member.email,
      name: member.name,
      organisation: member.organisation,
      organisationType: member.organisationType,
      status: member.status,
    };
  }

  /** Inserts a member inside the caller's transaction and queues the welcome email with a sign-in link. */
  function insert(tx: DbOrTx, cluster: Cluster, input: NewMember, actor: Actor): Member {
    const email = normaliseEmail(input.email);
    if (!isEmailAddress(email))
      throw problem('VALIDATION_FAILED', `"${input.email}" is not an email address`, {
        errors: [{ field: 'body/email', message: 'is not an email address' }],
      });
    const name = checkText(input.name, 'name', 200);
    const organisation = checkText(input.organisation, 'organisation', 200);
    const exists = tx
      .select({ id: members.id })
      .from(members)
      .where(and(eq(members.clusterId, cluster.id), eq(members.email, email)))
      .get();
    if (exists) throw problem('MEMBER_EXISTS', `${email} is a member of "${cluster.slug}" already`);
    const id = newId();
    const now = clock.now();
    const member = tx
      .insert(members)
      .values({
        id,
        clusterId: cluster.id,
        email,
        name,
        organisation,
        organisationType: input.organisationType,
        status: 'active',
        feedVersion: 1,
        feedTokenHash: feedTokenHash(deps.secretKey, id, 1),
        createdAt: now,
        updatedAt: now,
      })
      .returning()
      .get();
    const code = deps.signIn.issueCode(tx, member.id, WELCOME_CODE_MINUTES);
    outbox.enqueue(tx, {
      kind: 'member.welcome',
      to: email,
      clusterId: cluster.id,
      ...welcomeEmail(name, cluster.name, signInUrl(deps.site.baseUrl, code)),
    });
    audit.record(tx, actor, {
      clusterId: cluster.id,
      action: 'member.created',
      targetType: 'member',
      targetId: id,
      after: snapshot(member),
    });
    return member;
  }

  function get(cluster: Cluster, id: string): Member {
    const member = byId.get({ id });
    if (!member || member.clusterId !== cluster.id) throw problem('MEMBER_NOT_FOUND', `Cluster "${cluster.slug}" has no member ${id}`);
    return member;
  }

  return {
    hooks,
    insert,
    get,

    /** The member behind a member token (the resolver checked it is active a moment ago). */
    signedIn(principal: { memberId: string }): Member {
      const member = byId.get({ id: principal.memberId });
      if (!member) throw problem('INVALID_CREDENTIALS');
      return member;
    },

    /** The member with this id, whatever the cluster (for a member's own token). */
    byId(id: string): Member | undefined {
      return byId.get({ id });
    },

    /** These members by id (for lists of bookings, registrations and waiting lines), in the caller's transaction. */
    getMany(tx: DbOrTx, ids: string[]): Map<string, Member> {
      if (ids.length === 0) return new Map();
      return new Map(
        tx
          .select()
          .from(members)
          .where(inArray(members.id, [...new Set(ids)]))
          .all()
          .map((member) => [member.id, member]),
      );
    },

    create(cluster: Cluster, input: NewMember, actor: Actor): Member {
      return immediate(db, (tx) => insert(tx, cluster, input, actor));
    },

    /**
     * Adds the checked rows of a members CSV, each new member welcomed by email; a row whose address is
     * a member already is reported with its line. A dry run only reads (no write lock, nothing saved,
     * nobody emailed). The import writes IMPORT_BATCH rows a transaction and lets other work run between
     * them, so a large file does not hold the database or the event loop for seconds.
     */
    async importRows(cluster: Cluster, parsed: { rows: CsvRow[]; rejected: CsvRejection[] }, actor: Actor, options: { dryRun: boolean }) {
      const rejected: CsvRejection[] = [...parsed.rejected];
      const known = new Set<string>();
      for (const batch of chunks(parsed.rows, IMPORT_BATCH)) {
        const emails = batch.map((row) => row.member.email);
        for (const row of db
          .select({ email: members.email })
          .from(members)
          .where(and(eq(members.clusterId, cluster.id), inArray(members.email, emails)))
          .all())
          known.add(row.email);
      }
      const fresh = parsed.rows.filter((row) => {
        if (!known.has(row.member.email)) return true;
        rejected.push({ line: row.line, email: row.member.email, reason: `${row.member.email} is a member of "${cluster.slug}" already` });
        return false;
      });
      let imported = options.dryRun ? fresh.length : 0;
      if (!options.dryRun) {
        for (const batch of chunks(fresh, IMPORT_BATCH)) {
          immediate(db, (tx) => {
            for (const row of batch) {
              try {
                insert(tx, cluster, row.member, actor);
                imported += 1;
              } catch (error) {
                // Checks run before any write of the row, so a refused row leaves nothing behind.
                if (!isAppError(error)) throw error;
                rejected.push({ line: row.line, email: row.member.email, reason: error.message });
              }
            }
          });
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      rejected.sort((a, b) => a.line - b.line);
      return { imported, rejected, dryRun: options.dryRun };
    },

    /** A page of a cluster's members, in the order they were added. */
    list(cluster: Cluster, filter: MemberFilter): Page<Member> {
      const after = decodeCursor(filter.cursor, ['id']);
      const conditions: SQL[] = [eq(members.clusterId, cluster.id)];
      if (filter.status) conditions.push(eq(members.status, filter.status));
      if (filter.organisationType) conditions.push(eq(members.organisationType, filter.organisationType));
      if (filter.search) {
        const text = filter.search.toLowerCase();
        conditions.push(
          sql`(instr(fold(${members.name}), ${text}) > 0 OR instr(${members.email}, ${text}) > 0 OR instr(fold(${members.organisation}), ${text}) > 0)`,
        );
      }
      if (after) conditions.push(gt(members.id, after[0] as string));
      const rows = db
        .select()
        .from(members)
        .where(and(...conditions))
        .orderBy(asc(members.id))
        .limit(filter.limit + 1)
        .all();
      return pageOf(rows, filter.limit, (member) => [member.id]);
    },

    /**
     * Changes details or status. Suspending also revokes the member's tokens (they cannot sign in until
     * reactivated) and tells the modules that hold their plans (members.hooks.suspended).
     */
    update(cluster: Cluster, id: string, changes: MemberChanges, actor: Actor): Member {
      const values: Partial<Member> = {};
      if (changes.name !== undefined) values.name = checkText(changes.name, 'name', 200);
      if (changes.organisation !== undefined) values.organisation = checkText(changes.organisation, 'organisation', 200);
      if (changes.organisationType !== undefined) values.organisationType = changes.organisationType;
      if (changes.status !== undefined) values.status = changes.status;
      return immediate(db, (tx) => {
        const before = get(cluster, id);
        const now = clock.now();
        const after = tx
          .update(members)
          .set({ ...values, updatedAt: now })
          .where(eq(members.id, id))
          .returning()
          .get()!;
        if (before.status === 'active' && after.status === 'suspended') {
          tx.update(memberTokens)
            .set({ revokedAt: now })
            .where(and(eq(memberTokens.memberId, id), sql`${memberTokens.revokedAt} IS NULL`))
            .run();
          deps.signIn.spendCodes(tx, id);
          hooks.suspended.emit(tx, after, actor);
        }
        audit.record(tx, actor, {
          clusterId: cluster.id,
          action: 'member.updated',
          targetType: 'member',
          targetId: id,
          before: snapshot(before),
          after: snapshot(after),
        });
        return after;
      });
    },

    /** Active members of a cluster as invitation recipients. */
    activeRecipients(tx: DbOrTx, clusterId: string) {
      return tx
        .select({ email: members.email, name: members.name })
        .from(members)
        .where(and(eq(members.clusterId, clusterId), eq(members.status, 'active')))
        .orderBy(asc(members.id))
        .all();
    },

    /** The member's current private feed token (derived, so it can be shown again). */
    feedToken(member: Member): string {
      return feedToken(deps.secretKey, member.id, member.feedVersion);
    },

    /** The active member whose current feed token this is, or undefined. */
    byFeedToken(token: string): Member | undefined {
      const member = byFeedHash.get({ hash: hashToken(token) });
      return member?.status === 'active' ? member : undefined;
    },

    /** A new private feed address; the old one stops working at once. */
    rotateFeed(member: Member, actor: Actor): Member {
      return immediate(db, (tx) => {
        const version = member.feedVersion + 1;
        const after = tx
          .update(members)
          .set({ feedVersion: version, feedTokenHash: feedTokenHash(deps.secretKey, member.id, version), updatedAt: clock.now() })
          .where(eq(members.id, member.id))
          .returning()
          .get()!;
        audit.record(tx, actor, { clusterId: member.clusterId, action: 'member.feed_rotated', targetType: 'member', targetId: member.id });
        return after;
      });
    },
  };
}

/** Rows a members import writes in one transaction (and reads back in one query). */
const IMPORT_BATCH = 250;
