// DKIM keys and what a domain publishes for them (pure but for key generation's randomness): an RSA key
// pair, the TXT record for `<selector>._domainkey.<domain>`, and whether a From address is aligned with
// a signing domain (the same domain or a subdomain of it: DMARC relaxed alignment holds for both).
import { createPublicKey, generateKeyPairSync } from 'node:crypto';

export interface DkimKey {
  domainName: string;
  keySelector: string;
  /** PKCS#8 PEM. */
  privateKey: string;
}

/** A selector: DNS labels of letters, digits and hyphens (e.g. convene2026). */
export const DKIM_SELECTOR = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** A new 2048-bit RSA key (what every receiver verifies; 1024 is refused by some). */
export function generateDkimPrivateKey(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The DNS TXT record that publishes the public half of `privateKey`. */
export function dkimRecord(key: DkimKey): { name: string; value: string; zoneLine: string } {
  const publicKey = createPublicKey(key.privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
  const name = `${key.keySelector}._domainkey.${key.domainName}`;
  const value = `v=DKIM1; k=rsa; p=${publicKey}`;
  // A TXT string holds at most 255 characters: zone files write a long record as several quoted strings.
  const strings = value.match(/.{1,255}/g)!.map((part) => `"${part}"`);
  return { name, value, zoneLine: `${name}. IN TXT ( ${strings.join(' ')} )` };
}

/** The domain of an address, lower-cased ("News <news@NW.example>" gives nw.example). */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return address
    .slice(at + 1)
    .replace(/>.*$/, '')
    .trim()
    .toLowerCase();
}

/** Whether a signature by `signingDomain` is aligned with a From on `fromDomain` (relaxed: same or parent domain). */
export function isAligned(fromDomain: string, signingDomain: string): boolean {
  const from = fromDomain.toLowerCase();
  const signer = signingDomain.toLowerCase();
  return from === signer || from.endsWith(`.${signer}`);
}
