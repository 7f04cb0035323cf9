// What organisers see of the suppression list, and how they lift an address from it: the addresses
// suppressed in their cluster, and the instance-wide ones (bounced, complained) that are their own
// subscribers' (never another cluster's list). An erased address is never lifted.
import { and, desc, eq, inArray, isNull, or } from 'drizzle-orm';
import { immediate, type Db } from '../../db/client.js';
import { subscribers, suppressions, type Cluster, type SuppressionReason } from '../../db/schema.js';
import { problem } from '../../errors.js';
import { normaliseEmail } from '../../lib/text.js';
import type { Actor, AuditService } from '../audit/audit.service.js';
import { emailHash } from './subscribers.consent.js';

export interface SuppressionEntry {
  /** The address; null once erased (only its hash is kept). */
  email: string | null;
  /** cluster: this cluster only (erasure); everywhere: every cluster of the instance (bounces, complaints). */
  scope: 'cluster' | 'everywhere';
  reason: SuppressionReason;
  detail: string | null;
  createdAt: Date;
}

export function createSuppressionList(deps: { db: Db; audit: AuditService }) {
  const { db, audit } = deps;
  const ofCluster = (clusterId: string) =>
    db.select({ email: subscribers.email }).from(subscribers).where(eq(subscribers.clusterId, clusterId));

  /** The cluster's rows and the instance-wide rows about its subscribers; newest first. */
  function entries(cluster: Cluster, email?: string): (SuppressionEntry & { clusterId: string | null })[] {
    const rows = db
      .select()
      .from(suppressions)
      .where(
        and(
          or(
            eq(suppressions.clusterId, cluster.id),
            and(isNull(suppressions.clusterId), inArray(suppressions.email, ofCluster(cluster.id))),
          ),
          email === undefined ? undefined : eq(suppressions.emailHash, emailHash(email)),
        ),
      )
      .orderBy(desc(suppressions.createdAt))
      .all();
    return rows.map((row) => ({
      clusterId: row.clusterId,
      email: row.email,
      scope: row.clusterId === null ? 'everywhere' : 'cluster',
      reason: row.reason,
      detail: row.detail,
      createdAt: row.createdAt,
    }));
  }

  return {
    list(cluster: Cluster): SuppressionEntry[] {
      return entries(cluster).map(({ clusterId: _, ...entry }) => entry);
    },

    /** Mails the address again (from every cluster, when the suppression was instance-wide); the note goes to the audit log. */
    lift(cluster: Cluster, email: string, note: string, actor: Actor): SuppressionEntry {
      const address = normaliseEmail(email);
      return immediate(db, (tx) => {
        const found = entries(cluster, address);
        if (found.length === 0) throw problem('SUPPRESSION_NOT_FOUND', `${address} is not suppressed in ${cluster.slug}`);
        if (found.some((entry) => entry.reason === 'erased'))
          throw problem('SUPPRESSION_ERASED', `${address} was erased at the person's request and stays suppressed`);
        const entry = found[0]!;
        // Every row that keeps it from this cluster's mail: the instance-wide one and any of this cluster's own.
        tx.delete(suppressions)
          .where(
            and(eq(suppressions.emailHash, emailHash(address)), or(isNull(suppressions.clusterId), eq(suppressions.clusterId, cluster.id))),
          )
          .run();
        audit.record(tx, actor, {
          clusterId: cluster.id,
          action: 'suppression.lifted',
          targetType: 'suppression',
          targetId: emailHash(address),
          before: { email: address, reason: entry.reason, scope: entry.scope, detail: entry.detail },
          after: { note },
        });
        const { clusterId: _, ...shown } = entry;
        return shown;
      });
    },
  };
}
