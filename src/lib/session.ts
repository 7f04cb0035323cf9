// A member's browser session: a member token (kind "browser") in an HttpOnly cookie, and the CSRF
// token every form of a signed-in page carries. The cookie is SameSite=Lax, so other sites' forms
// do not carry it; the CSRF token (an HMAC of the session's id) is checked on every POST as well.
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { signLink, verifyLink } from './signed-links.js';

/** A session cookie's name and the paths it is sent to. */
export interface SessionCookie {
  name: string;
  path: string;
}

/** A member's session, on every page. */
export const MEMBER_SESSION: SessionCookie = { name: 'convene_session', path: '/' };
/** An organiser's console session, sent only to the console's pages. */
export const CONSOLE_SESSION: SessionCookie = { name: 'convene_console', path: '/console' };
const CSRF_PURPOSE = 'page-form';

/** The session token the browser sent, if any (needs @fastify/cookie registered). */
export function sessionToken(request: FastifyRequest, cookie: SessionCookie = MEMBER_SESSION): string | undefined {
  const value = request.cookies[cookie.name];
  return value && value.length <= 200 ? value : undefined;
}

export function setSessionCookie(
  reply: FastifyReply,
  token: string,
  options: { secure: boolean; expiresAt: Date; cookie?: SessionCookie },
): void {
  const cookie = options.cookie ?? MEMBER_SESSION;
  reply.setCookie(cookie.name, token, {
    httpOnly: true,
    secure: options.secure,
    sameSite: 'lax',
    path: cookie.path,
    expires: options.expiresAt,
  });
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean, cookie: SessionCookie = MEMBER_SESSION): void {
  reply.clearCookie(cookie.name, {
    httpOnly: true,
    secure,
    sameSite: 'lax',
    path: cookie.path,
  });
}

/** The value of a signed-in page's hidden `_csrf` field. */
export function csrfToken(secretKey: string, sessionId: string): string {
  return signLink(secretKey, CSRF_PURPOSE, sessionId);
}

/** Whether a submitted `_csrf` value belongs to this session. */
export function csrfMatches(secretKey: string, sessionId: string, value: unknown): boolean {
  return typeof value === 'string' && verifyLink(secretKey, CSRF_PURPOSE, value) === sessionId;
}
