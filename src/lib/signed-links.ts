// Tokens for links in emails that lead to an action page (cancel a pitch, accept an offer): the id of
// the thing and an HMAC of it bound to one purpose, so a token for one action never works for another.
import { createHmac, timingSafeEqual } from 'node:crypto';

function mac(secretKey: string, purpose: string, id: string): string {
  return createHmac('sha256', secretKey).update(`convene-link:${purpose}:${id}`).digest('base64url');
}

export function signLink(secretKey: string, purpose: string, id: string): string {
  return `${id}.${mac(secretKey, purpose, id)}`;
}

/** The id inside a token made by signLink for this purpose, or null when the token is not genuine. */
export function verifyLink(secretKey: string, purpose: string, token: string): string | null {
  const dot = token.lastIndexOf('.');
  if (dot <= 0 || token.length > 200) return null;
  const id = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1));
  const expected = Buffer.from(mac(secretKey, purpose, id));
  return given.length === expected.length && timingSafeEqual(given, expected) ? id : null;
}
