// Bearer tokens: random, recognisable by prefix, stored only as a SHA-256 hash.
// A presented token is looked up by its hash, then the stored hash is compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_PREFIXES = {
  organiserKey: 'cnv_org_',
  memberToken: 'cnv_mem_',
  feedToken: 'cnv_feed_',
  signInCode: 'cnv_code_',
} as const;

export type TokenKind = keyof typeof TOKEN_PREFIXES;

/** 32 random bytes (256 bits), base64url, behind a prefix that says what the token is. */
export function generateToken(kind: TokenKind): string {
  return TOKEN_PREFIXES[kind] + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The first characters of a token, safe to show in lists and logs. */
export function tokenDisplayPrefix(token: string): string {
  const kind = Object.values(TOKEN_PREFIXES).find((p) => token.startsWith(p)) ?? '';
  return token.slice(0, kind.length + 6);
}

/** True when `token` hashes to `expectedHash`; the time taken does not depend on where they differ. */
export function tokenMatches(token: string, expectedHash: string): boolean {
  const actual = Buffer.from(hashToken(token), 'hex');
  const expected = Buffer.from(expectedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A token is well-formed when it has a known prefix and 43 base64url characters after it. */
export function looksLikeToken(token: string, kind: TokenKind): boolean {
  const prefix = TOKEN_PREFIXES[kind];
  return token.length === prefix.length + 43 && token.startsWith(prefix) && /^[A-Za-z0-9_-]+$/.test(token.slice(prefix.length));
}
