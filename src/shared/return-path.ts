// The addresses mail comes back to (VERP): each message's return path names the message it belongs to,
// so a bounce is matched to the message, the person and the campaign without guessing from its text;
// a newsletter's mailto unsubscribe address names the subscriber, with a MAC so nobody can forge one.
// Local parts stay lower case and under 64 characters: some mail servers change case on the way.
import { createHmac, timingSafeEqual } from 'node:crypto';

const ID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const BOUNCE = new RegExp(`^bounce\\+(${ID})$`);
const UNSUBSCRIBE = new RegExp(`^unsub\\+(${ID})\\.([0-9a-f]{16})$`);

/** The return path of the outbox message `outboxId`. */
export function bounceAddress(outboxId: string, domain: string): string {
  return `bounce+${outboxId}@${domain}`;
}

function unsubscribeMac(secretKey: string, subscriberId: string): string {
  return createHmac('sha256', secretKey).update(`convene-mailto-unsubscribe:${subscriberId}`).digest('hex').slice(0, 16);
}

/** The address a subscriber may write to (any subject, any text) to leave the list (RFC 2369, RFC 8058's mailto). */
export function unsubscribeAddress(subscriberId: string, domain: string, secretKey: string): string {
  return `unsub+${subscriberId}.${unsubscribeMac(secretKey, subscriberId)}@${domain}`;
}

export type ReturnAddress = { kind: 'bounce'; outboxId: string } | { kind: 'unsubscribe'; subscriberId: string } | { kind: 'other' };

/** What an address at the return-path domain names; null when it is not at that domain. */
export function readReturnAddress(address: string, domain: string, secretKey: string): ReturnAddress | null {
  const at = address.lastIndexOf('@');
  if (at <= 0 || address.slice(at + 1).toLowerCase() !== domain) return null;
  const local = address.slice(0, at).toLowerCase();
  const bounce = BOUNCE.exec(local);
  if (bounce) return { kind: 'bounce', outboxId: bounce[1]! };
  const unsubscribe = UNSUBSCRIBE.exec(local);
  if (unsubscribe) {
    const [, id, mac] = unsubscribe as unknown as [string, string, string];
    const expected = unsubscribeMac(secretKey, id);
    if (timingSafeEqual(Buffer.from(mac), Buffer.from(expected))) return { kind: 'unsubscribe', subscriberId: id };
  }
  return { kind: 'other' };
}
