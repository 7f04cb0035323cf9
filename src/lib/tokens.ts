// Bearer tokens: random, recognisable by prefix, stored only as a SHA-256 hash.
// A presented token is looked up by its hash, then the stored hash is compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_PREFIXES = {
  organiserKey: 'cnv_org_',
  memberToken: 'cnv_mem_',
  feedToken: 'cnv_feed_',
  signInCode: 'cnv_code_',
  consoleCode: 'cnv_ccode_',
  consoleSession: 'cnv_con_',
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
  return hashesMatch(hashToken(token), expectedHash);
}

/** True when two hex hashes are equal, compared in constant time. */
function hashesMatch(actualHash: string, expectedHash: string): boolean {
  const actual = Buffer.from(actualHash, 'hex');
  const expected = Buffer.from(expectedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A token is well-formed when it has a known prefix and 43 base64url characters after it. */
export function looksLikeToken(token: string, kind: TokenKind): boolean {
  const prefix = TOKEN_PREFIXES[kind];
  return token.length === prefix.length + 43 && token.startsWith(prefix) && /^[A-Za-z0-9_-]+$/.test(token.slice(prefix.length));
}

/** What is stored of a bearer token (an organiser key or a member token). */
export interface StoredToken {
  tokenHash: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

/**
 * For a last-use write made later (db/client.ts writeSoon): its failure is dropped, as findCurrentToken
 * drops one made at once. Bookkeeping only: a busy database must not turn a valid token into an error.
 */
export const lastUseFailed = (): void => {};

/** last_used_at is written at most this often per token, so reads do not turn into writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * The stored row behind a presented token of this kind, or null unless it is well-formed, found by
 * its hash (a 256-bit random token: the lookup leaks nothing through timing), equal in constant
 * time, not revoked and not expired. A current token is marked used, at most once a minute.
 */
export function findCurrentToken<Row extends StoredToken>(
  token: string,
  kind: TokenKind,
  now: Date,
  store: { find: (hash: string) => Row | undefined; markUsed: (row: Row, now: Date) => void },
): Row | null {
  if (!looksLikeToken(token, kind)) return null;
  const hash = hashToken(token);
  const row = store.find(hash);
  if (!row || !hashesMatch(hash, row.tokenHash) || row.revokedAt || (row.expiresAt && row.expiresAt <= now)) return null;
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    try {
      store.markUsed(row, now);
    } catch {
      // Bookkeeping only: a busy database must not turn a valid token into an error.
    }
  }
  return row;
}
