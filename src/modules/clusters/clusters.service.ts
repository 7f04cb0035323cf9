// Clusters: creation (CLI), the public profile, and the organiser's settings, each change audited.
import { asc, eq, sql } from 'drizzle-orm';
import { immediate, type Db, type DbOrTx } from '../../db/client.js';
import { fastRows } from '../../db/rows.js';
import { clusters, type BookingPolicy, type Cluster } from '../../db/schema.js';
import { problem } from '../../errors.js';
import { boundedCache } from '../../lib/cache.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import { DKIM_SELECTOR, domainOf, isAligned, type DkimKey } from '../../lib/dkim.js';
import { seal, unseal } from '../../lib/secret-box.js';
import { checkTimeZone, cleanName, isEmailAddress, parseMailbox, SLUG } from '../../lib/text.js';

/** What the DKIM keys are sealed for (lib/secret-box.ts), with the cluster's id: a key copied to another cluster does not open. */
const DKIM_PURPOSE = 'dkim-key';
import { diff, type Actor, type AuditService } from '../audit/audit.service.js';

export type { Cluster };

export const DEFAULT_THEMES = ['data', 'devices', 'diagnostics', 'digital'];

/** A new huddle closes booking this many hours before it starts, unless its pitch settings say otherwise. */
export const DEFAULT_BOOKING_CLOSES_HOURS = 24;

/**
 * Members may cancel until booking closes (the cutoff equals the default close): a pitch booked while
 * booking is open can always be cancelled by its member for a while, as its email promises.
 */
export const DEFAULT_BOOKING_POLICY: BookingPolicy = {
  pitchesPerOrganisationPerHuddle: 1,
  rollingLimit: null,
  cancellationCutoffHours: DEFAULT_BOOKING_CLOSES_HOURS,
  waitlistOfferHours: 24,
  approvalRequired: false,
};

export interface NewCluster {
  slug: string;
  name: string;
  timezone?: string;
}

export interface ClusterChanges {
  name?: string;
  timezone?: string;
  contactEmail?: string | null;
  websiteUrl?: string | null;
  websiteOrigins?: string[];
  description?: string;
  themes?: string[];
  bookingPolicy?: Partial<BookingPolicy>;
  /** The cluster's own sender; null goes back to the instance's MAIL_FROM. */
  sender?: { name: string; address: string; replyTo?: string | null } | null;
}

/** What the outbox writes on a cluster's messages: its From (and Reply-To), when it has its own. */
export interface ClusterSender {
  from: string;
  replyTo: string | null;
}

/** "Name" <address>, the name quoted so that commas, quotes and the like stay in the name. */
export function mailbox(name: string, address: string): string {
  return `"${name.replace(/[\\"]/g, '\\$&')}" <${address}>`;
}

/** The From and Reply-To of a cluster's messages, or null when it sends as the instance. */
export function senderOf(cluster: Pick<Cluster, 'name' | 'senderName' | 'senderAddress' | 'replyTo'>): ClusterSender | null {
  if (!cluster.senderAddress) return null;
  return { from: mailbox(cluster.senderName ?? cluster.name, cluster.senderAddress), replyTo: cluster.replyTo };
}

/** A sender's address: one bare address on a real domain (not localhost), as typed. */
function checkSenderAddress(value: string, field: string): string {
  const parsed = parseMailbox(value.trim());
  if (!parsed || parsed.name !== '' || parsed.address !== value.trim())
    throw problem('VALIDATION_FAILED', `${field.split('/').pop()} must be one email address on a real domain`, {
      errors: [{ field, message: 'is not one email address on a real domain' }],
    });
  return parsed.address;
}

function checkName(value: string): string {
  const name = cleanName(value);
  if (!name)
    throw problem('VALIDATION_FAILED', 'name must be 1-200 characters on one line', {
      errors: [{ field: 'body/name', message: 'is empty or too long' }],
    });
  return name;
}

function snapshot(cluster: Cluster): Record<string, unknown> {
  const { name, description, timezone, contactEmail, websiteUrl, websiteOrigins, themes, bookingPolicy } = cluster;
  const { senderName, senderAddress, replyTo } = cluster;
  return {
    name,
    description,
    timezone,
    contactEmail,
    websiteUrl,
    websiteOrigins,
    themes,
    bookingPolicy,
    senderName,
    senderAddress,
    replyTo,
  };
}

/** The sender columns a change asks for (undefined: unchanged), checked. */
function senderColumns(sender: ClusterChanges['sender']) {
  if (sender === undefined) return undefined;
  if (sender === null) return { senderName: null, senderAddress: null, replyTo: null };
  const name = cleanName(sender.name, 100);
  if (!name)
    throw problem('VALIDATION_FAILED', 'sender.name must be 1-100 characters on one line', {
      errors: [{ field: 'body/sender/name', message: 'is empty or too long' }],
    });
  const address = checkSenderAddress(sender.address, 'body/sender/address');
  if (!parseMailbox(mailbox(name, address)))
    throw problem('VALIDATION_FAILED', 'sender.name cannot be used in a From line (an @ in a name is taken for an address)', {
      errors: [{ field: 'body/sender/name', message: 'cannot be used in a From line' }],
    });
  return {
    senderName: name,
    senderAddress: address,
    replyTo: sender.replyTo ? checkSenderAddress(sender.replyTo, 'body/sender/replyTo') : null,
  };
}

export type ClustersService = ReturnType<typeof createClustersService>;
/** Slugs that name console pages (/console/signin), so a cluster by that name could never be opened there. */
const RESERVED_SLUGS = ['signin', 'signout'];

export type ClusterStamp = Pick<Cluster, 'id' | 'slug' | 'huddlesVersion'>;

export function createClustersService({ db, clock, audit, secretKey }: { db: Db; clock: Clock; audit: AuditService; secretKey: string }) {
  // What the mail worker asks before each message: the cluster's DKIM key (decrypted once per key), and
  // whether it sends as itself, in one read.
  // Asked for every message that leaves (signing) and every one queued (sender): hot reads (src/db/rows.ts).
  const dkimById = fastRows(
    db
      .select({
        domainName: clusters.dkimDomain,
        keySelector: clusters.dkimSelector,
        sealed: clusters.dkimKey,
        senderAddress: clusters.senderAddress,
      })
      .from(clusters)
      .where(eq(clusters.id, sql.placeholder('id')))
      .prepare(),
  );
  const opened = new Map<string, string | null>();

  /**
   * A domain another cluster sends from or signs for is that cluster's: refused, so that no organiser
   * can send as another cluster (its DKIM key and SPF would vouch for the mail).
   */
  function refuseDomainOfAnother(tx: DbOrTx, clusterId: string, domain: string): void {
    const others = tx
      .select({ slug: clusters.slug, senderAddress: clusters.senderAddress, dkimDomain: clusters.dkimDomain })
      .from(clusters)
      .where(sql`${clusters.id} <> ${clusterId} AND (${clusters.senderAddress} IS NOT NULL OR ${clusters.dkimDomain} IS NOT NULL)`)
      .all();
    const taken = others.find(
      (other) =>
        (other.senderAddress && (isAligned(domain, domainOf(other.senderAddress)) || isAligned(domainOf(other.senderAddress), domain))) ||
        (other.dkimDomain && (isAligned(domain, other.dkimDomain) || isAligned(other.dkimDomain, domain))),
    );
    if (taken)
      throw problem('VALIDATION_FAILED', `${domain} is the mail domain of another cluster on this instance`, {
        errors: [{ field: 'body/sender/address', message: "is on another cluster's mail domain" }],
      });
  }
  const bySlug = db
    .select()
    .from(clusters)
    .where(eq(clusters.slug, sql.placeholder('slug')))
    .prepare();
  // What the outbox asks of every message a cluster sends: only the sender's columns (no JSON to parse).
  const senderById = fastRows(
    db
      .select({ name: clusters.name, senderName: clusters.senderName, senderAddress: clusters.senderAddress, replyTo: clusters.replyTo })
      .from(clusters)
      .where(eq(clusters.id, sql.placeholder('id')))
      .prepare(),
  );
  const byId = fastRows(
    db
      .select()
      .from(clusters)
      .where(eq(clusters.id, sql.placeholder('id')))
      .prepare(),
  );
  // What a booking asks of its cluster before anything is decided: the policy alone (no other JSON to parse).
  const policyById = fastRows(
    db
      .select({ id: clusters.id, bookingPolicy: clusters.bookingPolicy })
      .from(clusters)
      .where(eq(clusters.id, sql.placeholder('id')))
      .prepare(),
  );
  const stampBySlug = db
    .select({ id: clusters.id, slug: clusters.slug, huddlesVersion: clusters.huddlesVersion })
    .from(clusters)
    .where(eq(clusters.slug, sql.placeholder('slug')))
    .prepare();
  // A slug never changes once a cluster is made, so each is read once (every signed-in request asks).
  const slugs = boundedCache<string, string>(10_000);
  const slugById = db
    .select({ slug: clusters.slug })
    .from(clusters)
    .where(eq(clusters.id, sql.placeholder('id')))
    .prepare();

  function find(slug: string): Cluster | undefined {
    return bySlug.get({ slug });
  }

  function get(slug: string): Cluster {
    const cluster = find(slug);
    if (!cluster) throw problem('CLUSTER_NOT_FOUND', `There is no cluster "${slug}"`);
    return cluster;
  }

  return {
    get,
    /** The cluster with this slug, or undefined. */
    find,

    /** Every cluster on this instance, by name: the home page lists them. */
    list(): Pick<Cluster, 'slug' | 'name'>[] {
      return db.select({ slug: clusters.slug, name: clusters.name }).from(clusters).orderBy(asc(clusters.name)).all();
    },

    /** What tells whether a cluster or its huddles changed (any change bumps huddlesVersion), without reading and parsing the whole row. */
    stamp(slug: string): ClusterStamp {
      const stamp = stampBySlug.get({ slug });
      if (!stamp) throw problem('CLUSTER_NOT_FOUND', `There is no cluster "${slug}"`);
      return stamp;
    },

    /**
     * What signs this cluster's mail: its DKIM key (null when it has none, or it was sealed under another
     * SECRET_KEY), and whether it sends as itself (then the instance's key never signs for it).
     */
    signingOf(id: string): { key: DkimKey | null; ownSender: boolean } {
      const row = dkimById.get({ id });
      if (!row) return { key: null, ownSender: false };
      const ownSender = row.senderAddress !== null;
      if (!row.domainName || !row.keySelector || !row.sealed) return { key: null, ownSender };
      let privateKey = opened.get(row.sealed);
      if (privateKey === undefined) {
        privateKey = unseal(secretKey, `${DKIM_PURPOSE}:${id}`, row.sealed);
        opened.set(row.sealed, privateKey);
        // Once per key: its mail now goes unsigned until a new key is made.
        if (privateKey === null)
          process.emitWarning(`cluster ${id}: its DKIM key was sealed with another SECRET_KEY; run convene cluster dkim again`);
      }
      return { key: privateKey ? { domainName: row.domainName, keySelector: row.keySelector, privateKey } : null, ownSender };
    },

    /** Gives the cluster a DKIM key for `domain` under `selector` (replacing any other); the key is kept sealed. */
    setDkimKey(slug: string, key: DkimKey, actor: Actor): Cluster {
      const domainName = key.domainName.trim().toLowerCase();
      if (!isEmailAddress(`dkim@${domainName}`))
        throw problem('VALIDATION_FAILED', `${key.domainName} is not a domain name`, {
          errors: [{ field: 'domain', message: 'is not a domain name' }],
        });
      if (!DKIM_SELECTOR.test(key.keySelector))
        throw problem('VALIDATION_FAILED', `${key.keySelector} is not a DKIM selector (letters, digits and hyphens)`, {
          errors: [{ field: 'selector', message: 'is not a DKIM selector' }],
        });
      return immediate(db, (tx) => {
        const current = tx.select().from(clusters).where(eq(clusters.slug, slug)).get();
        if (!current) throw problem('CLUSTER_NOT_FOUND', `There is no cluster "${slug}"`);
        refuseDomainOfAnother(tx, current.id, domainName);
        const row = tx
          .update(clusters)
          .set({
            dkimDomain: domainName,
            dkimSelector: key.keySelector,
            dkimKey: seal(secretKey, `${DKIM_PURPOSE}:${current.id}`, key.privateKey),
            updatedAt: clock.now(),
          })
          .where(eq(clusters.id, current.id))
          .returning()
          .get();
        audit.record(tx, actor, {
          clusterId: current.id,
          action: 'cluster.dkim_key_set',
          targetType: 'cluster',
          targetId: current.id,
          before: { dkimDomain: current.dkimDomain, dkimSelector: current.dkimSelector },
          after: { dkimDomain: domainName, dkimSelector: key.keySelector },
        });
        return row;
      });
    },

    /** The From and Reply-To of this cluster's messages, or null when it sends as the instance. */
    senderOf(id: string): ClusterSender | null {
      const row = senderById.get({ id });
      return row ? senderOf(row) : null;
    },

    /** The cluster a record belongs to; it always exists (foreign keys). */
    getById(id: string): Cluster {
      const cluster = byId.get({ id });
      if (!cluster) throw new Error(`cluster ${id} vanished`);
      return cluster;
    },

    /** A cluster's booking policy, with its id; the cluster always exists (foreign keys). */
    policyOf(id: string): Pick<Cluster, 'id' | 'bookingPolicy'> {
      const row = policyById.get({ id });
      if (!row) throw new Error(`cluster ${id} vanished`);
      return row;
    },

    /** The slug of the cluster a record belongs to (a principal's cluster), read once per cluster. */
    slugOf(id: string): string {
      let slug = slugs.get(id);
      if (slug === undefined) {
        const row = slugById.get({ id });
        if (!row) throw new Error(`cluster ${id} vanished`);
        slug = row.slug;
        slugs.set(id, slug);
      }
      return slug;
    },

    /** Marks the cluster's public calendar as changed (a huddle was saved), in the change's transaction. */
    bumpFeedVersion(tx: DbOrTx, id: string): void {
      tx.update(clusters)
        .set({ huddlesVersion: sql`${clusters.huddlesVersion} + 1` })
        .where(eq(clusters.id, id))
        .run();
    },

    create(input: NewCluster, actor: Actor): Cluster {
      if (!SLUG.test(input.slug)) {
        throw problem('VALIDATION_FAILED', 'slug must be 1-64 lower-case letters, digits and inner hyphens');
      }
      if (RESERVED_SLUGS.includes(input.slug)) {
        throw problem('VALIDATION_FAILED', `"${input.slug}" names a page of the console (/console/${input.slug}): choose another slug`);
      }
      const name = checkName(input.name);
      const timezone = checkTimeZone(input.timezone ?? 'Europe/London');
      const now = clock.now();
      return immediate(db, (tx) => {
        if (tx.select({ id: clusters.id }).from(clusters).where(eq(clusters.slug, input.slug)).get()) {
          throw problem('CLUSTER_SLUG_TAKEN', `A cluster "${input.slug}" exists already`);
        }
        const row = tx
          .insert(clusters)
          .values({
            id: newId(),
            slug: input.slug,
            name,
            timezone,
            themes: DEFAULT_THEMES,
            bookingPolicy: DEFAULT_BOOKING_POLICY,
            createdAt: now,
            updatedAt: now,
          })
          .returning()
          .get();
        audit.record(tx, actor, {
          clusterId: row.id,
          action: 'cluster.created',
          targetType: 'cluster',
          targetId: row.id,
          after: { slug: row.slug, ...snapshot(row) },
        });
        return row;
      });
    },

    update(slug: string, changes: ClusterChanges, actor: Actor): Cluster {
      const timezone = changes.timezone !== undefined ? checkTimeZone(changes.timezone) : undefined;
      const newName = changes.name !== undefined ? checkName(changes.name) : undefined;
      const sender = senderColumns(changes.sender);
      if (changes.themes !== undefined && new Set(changes.themes).size !== changes.themes.length) {
        throw problem('VALIDATION_FAILED', 'themes must not repeat', { errors: [{ field: 'body/themes', message: 'has duplicates' }] });
      }
      const cutoff = changes.bookingPolicy?.cancellationCutoffHours;
      if (cutoff !== undefined && cutoff > DEFAULT_BOOKING_CLOSES_HOURS) {
        throw problem(
          'VALIDATION_FAILED',
          `bookingPolicy.cancellationCutoffHours must not be more than ${DEFAULT_BOOKING_CLOSES_HOURS}: new huddles close booking ` +
            `${DEFAULT_BOOKING_CLOSES_HOURS} hours before they start, and a pitch booked in between could never be cancelled by its ` +
            'member. Set a longer cutoff on a huddle that closes booking earlier.',
          { errors: [{ field: 'body/bookingPolicy/cancellationCutoffHours', message: `is more than ${DEFAULT_BOOKING_CLOSES_HOURS}` }] },
        );
      }
      return immediate(db, (tx) => {
        const current = tx.select().from(clusters).where(eq(clusters.slug, slug)).get();
        if (!current) throw problem('CLUSTER_NOT_FOUND', `There is no cluster "${slug}"`);
        if (sender?.senderAddress) refuseDomainOfAnother(tx, current.id, domainOf(sender.senderAddress));
        const next = {
          name: newName ?? current.name,
          description: changes.description !== undefined ? changes.description.trim() : current.description,
          timezone: timezone ?? current.timezone,
          contactEmail: changes.contactEmail !== undefined ? changes.contactEmail : current.contactEmail,
          websiteUrl: changes.websiteUrl !== undefined ? changes.websiteUrl : current.websiteUrl,
          websiteOrigins: changes.websiteOrigins ?? current.websiteOrigins,
          themes: changes.themes ?? current.themes,
          bookingPolicy: { ...current.bookingPolicy, ...changes.bookingPolicy },
          ...(sender ?? { senderName: current.senderName, senderAddress: current.senderAddress, replyTo: current.replyTo }),
        };
        const changed = diff(snapshot(current), next);
        if (Object.keys(changed.after).length === 0) return current;
        const row = tx
          .update(clusters)
          .set({ ...next, huddlesVersion: sql`${clusters.huddlesVersion} + 1`, updatedAt: clock.now() })
          .where(eq(clusters.id, current.id))
          .returning()
          .get();
        audit.record(tx, actor, {
          clusterId: current.id,
          action: 'cluster.updated',
          targetType: 'cluster',
          targetId: current.id,
          ...changed,
        });
        return row;
      });
    },
  };
}
