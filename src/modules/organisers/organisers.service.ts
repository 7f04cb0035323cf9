// Organisers and their API keys: created and revoked from the CLI, resolved on every organiser request.
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { immediate, writeSoon, type Db, type DbOrTx } from '../../db/client.js';
import { apiKeys, ORGANISER_ROLES, organisers, type Organiser, type OrganiserRole } from '../../db/schema.js';
import { problem } from '../../errors.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import { cleanName, isEmailAddress, normaliseEmail } from '../../lib/text.js';
import { findCurrentToken, lastUseFailed, generateToken, hashToken, tokenDisplayPrefix } from '../../lib/tokens.js';
import type { OrganiserPrincipal } from '../../shared/principals.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';

export type { Organiser };

export const DEFAULT_KEY_DAYS = 365;
const MAX_KEY_DAYS = 3650;

export interface IssuedKey {
  organiser: Organiser;
  apiKey: string;
  keyId: string;
  prefix: string;
  expiresAt: Date;
}

export type OrganisersService = ReturnType<typeof createOrganisersService>;

export function createOrganisersService(deps: { db: Db; clock: Clock; audit: AuditService; clusters: ClustersService }) {
  const { db, clock, audit } = deps;

  const keyByHash = db
    .select({
      keyId: apiKeys.id,
      tokenHash: apiKeys.tokenHash,
      expiresAt: apiKeys.expiresAt,
      revokedAt: apiKeys.revokedAt,
      lastUsedAt: apiKeys.lastUsedAt,
      organiserId: organisers.id,
      organiserName: organisers.name,
      role: organisers.role,
      clusterId: apiKeys.clusterId,
    })
    .from(apiKeys)
    .innerJoin(organisers, eq(organisers.id, apiKeys.organiserId))
    .where(eq(apiKeys.tokenHash, sql.placeholder('hash')))
    .prepare();
  const touchKey = db
    .update(apiKeys)
    .set({ lastUsedAt: sql`${sql.placeholder('now')}` })
    .where(eq(apiKeys.id, sql.placeholder('id')))
    .prepare();

  function insertKey(tx: DbOrTx, organiser: Organiser, validDays: number) {
    if (!Number.isInteger(validDays) || validDays < 1 || validDays > MAX_KEY_DAYS) {
      throw problem('VALIDATION_FAILED', `a key is valid for 1 to ${MAX_KEY_DAYS} days`);
    }
    const apiKey = generateToken('organiserKey');
    const keyId = newId();
    const prefix = tokenDisplayPrefix(apiKey);
    const now = clock.now();
    tx.insert(apiKeys)
      .values({
        id: keyId,
        organiserId: organiser.id,
        clusterId: organiser.clusterId,
        prefix,
        tokenHash: hashToken(apiKey),
        createdAt: now,
        expiresAt: new Date(now.getTime() + validDays * 86_400_000),
      })
      .run();
    return { apiKey, keyId, prefix, expiresAt: new Date(now.getTime() + validDays * 86_400_000) };
  }

  function findOrganiser(clusterSlug: string, email: string): Organiser {
    const cluster = deps.clusters.get(clusterSlug);
    const organiser = db
      .select()
      .from(organisers)
      .where(and(eq(organisers.clusterId, cluster.id), eq(organisers.email, normaliseEmail(email))))
      .get();
    if (!organiser) throw problem('ORGANISER_NOT_FOUND', `Cluster "${clusterSlug}" has no organiser ${normaliseEmail(email)}`);
    return organiser;
  }

  function organiserById(organiserId: string): Organiser {
    const organiser = db.select().from(organisers).where(eq(organisers.id, organiserId)).get();
    if (!organiser) throw problem('ORGANISER_NOT_FOUND', 'No such organiser');
    return organiser;
  }

  function issueKeyTo(organiser: Organiser, actor: Actor, validDays: number): IssuedKey {
    return immediate(db, (tx) => {
      const key = insertKey(tx, organiser, validDays);
      audit.record(tx, actor, {
        clusterId: organiser.clusterId,
        action: 'api-key.created',
        targetType: 'organiser',
        targetId: organiser.id,
        after: { keyPrefix: key.prefix },
      });
      return { organiser, ...key };
    });
  }

  /** Revokes the organiser's active keys that `chosen` picks; `named` (when not null) must pick one. */
  function revokeKeys(organiser: Organiser, actor: Actor, chosen: (key: { id: string; prefix: string }) => boolean, named: string | null) {
    return immediate(db, (tx) => {
      const active = tx
        .select({ id: apiKeys.id, prefix: apiKeys.prefix })
        .from(apiKeys)
        .where(and(eq(apiKeys.organiserId, organiser.id), isNull(apiKeys.revokedAt)))
        .all()
        .filter(chosen);
      if (named !== null && active.length === 0) {
        throw problem('API_KEY_NOT_FOUND', `${organiser.email} has no active key ${named}`);
      }
      const now = clock.now();
      for (const key of active) tx.update(apiKeys).set({ revokedAt: now }).where(eq(apiKeys.id, key.id)).run();
      if (active.length > 0) {
        audit.record(tx, actor, {
          clusterId: organiser.clusterId,
          action: 'api-key.revoked',
          targetType: 'organiser',
          targetId: organiser.id,
          before: { activeKeys: active.map((key) => key.prefix) },
          after: { revokedKeys: active.map((key) => key.prefix) },
        });
      }
      return { revoked: active.map((key) => key.prefix) };
    });
  }

  return {
    /**
     * Adds an organiser (or a viewer, who sees everything and changes nothing) with a first API key.
     * The key is returned here and never again.
     */
    create(clusterSlug: string, input: { email: string; name: string; validDays?: number; role?: OrganiserRole }, actor: Actor): IssuedKey {
      const cluster = deps.clusters.get(clusterSlug);
      const email = normaliseEmail(input.email);
      const name = cleanName(input.name);
      const role = input.role ?? 'organiser';
      if (!isEmailAddress(email)) throw problem('VALIDATION_FAILED', `"${input.email}" is not an email address`);
      if (!name) throw problem('VALIDATION_FAILED', 'name must be 1-200 characters on one line');
      if (!ORGANISER_ROLES.includes(role)) throw problem('VALIDATION_FAILED', `role must be one of ${ORGANISER_ROLES.join(', ')}`);
      return immediate(db, (tx) => {
        const exists = tx
          .select({ id: organisers.id })
          .from(organisers)
          .where(and(eq(organisers.clusterId, cluster.id), eq(organisers.email, email)))
          .get();
        if (exists) throw problem('ORGANISER_EXISTS', `${email} is an organiser of "${clusterSlug}" already`);
        const organiser = tx
          .insert(organisers)
          .values({ id: newId(), clusterId: cluster.id, email, name, role, createdAt: clock.now() })
          .returning()
          .get();
        const key = insertKey(tx, organiser, input.validDays ?? DEFAULT_KEY_DAYS);
        audit.record(tx, actor, {
          clusterId: cluster.id,
          action: 'organiser.created',
          targetType: 'organiser',
          targetId: organiser.id,
          after: { email, name, role, keyPrefix: key.prefix },
        });
        return { organiser, ...key };
      });
    },

    /** Issues another key for an existing organiser (e.g. before revoking a leaked one). */
    issueKey(clusterSlug: string, email: string, actor: Actor, validDays = DEFAULT_KEY_DAYS): IssuedKey {
      return issueKeyTo(findOrganiser(clusterSlug, email), actor, validDays);
    },

    /** The same for the organiser signed in to the console. */
    issueOwnKey(organiserId: string, actor: Actor, validDays = DEFAULT_KEY_DAYS): IssuedKey {
      return issueKeyTo(organiserById(organiserId), actor, validDays);
    },

    /** Revokes the organiser's keys: all of them, or the one whose visible prefix is given. */
    revoke(clusterSlug: string, email: string, actor: Actor, keyPrefix?: string): { revoked: string[] } {
      const organiser = findOrganiser(clusterSlug, email);
      return revokeKeys(organiser, actor, (key) => keyPrefix === undefined || key.prefix === keyPrefix, keyPrefix ?? null);
    },

    /** Revokes one key of the organiser signed in to the console, by its id. */
    revokeOwnKey(organiserId: string, keyId: string, actor: Actor): void {
      const organiser = organiserById(organiserId);
      revokeKeys(organiser, actor, (key) => key.id === keyId, 'that key');
    },

    /** An organiser's keys, newest first: what the console lists (never the key itself). */
    keysOf(organiserId: string) {
      return db
        .select({
          id: apiKeys.id,
          prefix: apiKeys.prefix,
          createdAt: apiKeys.createdAt,
          expiresAt: apiKeys.expiresAt,
          lastUsedAt: apiKeys.lastUsedAt,
          revokedAt: apiKeys.revokedAt,
        })
        .from(apiKeys)
        .where(eq(apiKeys.organiserId, organiserId))
        .orderBy(desc(apiKeys.createdAt))
        .all();
    },

    list(clusterSlug: string) {
      const cluster = deps.clusters.get(clusterSlug);
      const rows = db.select().from(organisers).where(eq(organisers.clusterId, cluster.id)).all();
      return rows.map((organiser) => ({
        ...organiser,
        keys: db
          .select({
            prefix: apiKeys.prefix,
            createdAt: apiKeys.createdAt,
            expiresAt: apiKeys.expiresAt,
            lastUsedAt: apiKeys.lastUsedAt,
            revokedAt: apiKeys.revokedAt,
          })
          .from(apiKeys)
          .where(eq(apiKeys.organiserId, organiser.id))
          .all(),
      }));
    },

    /** An organiser's address (a test newsletter goes there). */
    emailOf(organiserId: string): string {
      return organiserById(organiserId).email;
    },

    /** The addresses of a cluster's organisers (told about late pitch cancellations). */
    contactsOf(tx: DbOrTx, clusterId: string): string[] {
      return tx
        .select({ email: organisers.email })
        .from(organisers)
        .where(eq(organisers.clusterId, clusterId))
        .all()
        .map((row) => row.email);
    },

    /** The auth plugin's resolver for cnv_org_ keys. */
    resolveKey(token: string, now: Date): OrganiserPrincipal | null {
      const row = findCurrentToken(token, 'organiserKey', now, {
        find: (hash) => keyByHash.get({ hash }),
        markUsed: (key, at) => writeSoon(db, () => touchKey.run({ id: key.keyId, now: at.getTime() }), lastUseFailed),
      });
      if (!row) return null;
      return {
        kind: 'organiser',
        role: row.role,
        organiserId: row.organiserId,
        clusterId: row.clusterId,
        clusterSlug: deps.clusters.slugOf(row.clusterId),
        keyId: row.keyId,
        label: row.organiserName,
      };
    },
  };
}
