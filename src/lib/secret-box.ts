// Secrets Convene must use again (a DKIM private key), kept encrypted at rest with a key derived from
// SECRET_KEY (AES-256-GCM, pure). Changing SECRET_KEY makes what was sealed with the old one unreadable.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';

function keyOf(secretKey: string, purpose: string): Buffer {
  return createHash('sha256').update(`convene:${purpose}:`).update(secretKey).digest();
}

/** "v1.<iv>.<tag>.<ciphertext>" (base64url): `plaintext` sealed for `purpose`. */
export function seal(secretKey: string, purpose: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(secretKey, purpose), iv, { authTagLength: 16 });
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv, cipher.getAuthTag(), body].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
}

/** The plaintext `seal` sealed, or null when it was sealed with another secret or purpose, or altered. */
export function unseal(secretKey: string, purpose: string, sealed: string): string | null {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== VERSION || !iv || !tag || body === undefined) return null;
  try {
    const authTag = Buffer.from(tag, 'base64url');
    // A whole tag only: GCM would accept a cut-down one, which is far easier to forge.
    if (authTag.length !== 16) return null;
    const decipher = createDecipheriv('aes-256-gcm', keyOf(secretKey, purpose), Buffer.from(iv, 'base64url'), { authTagLength: 16 });
    decipher.setAuthTag(authTag);
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
