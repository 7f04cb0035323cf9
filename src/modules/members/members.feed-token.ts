// A member's private feed token: derived from the server secret, the member and a version (pure).
// Deriving it means /v1/me can show the address again without storing the token; only its hash is
// stored, to find the member. Rotating bumps the version, which changes the token and the hash.
import { createHmac } from 'node:crypto';
import { hashToken, TOKEN_PREFIXES } from '../../lib/tokens.js';

export function feedToken(secretKey: string, memberId: string, version: number): string {
  const mac = createHmac('sha256', secretKey).update(`convene-feed:${memberId}:${version}`).digest('base64url');
  return TOKEN_PREFIXES.feedToken + mac;
}

export function feedTokenHash(secretKey: string, memberId: string, version: number): string {
  return hashToken(feedToken(secretKey, memberId, version));
}
