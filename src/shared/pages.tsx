// What the pages behind email links (confirm, unsubscribe, preferences, the pitch and offer links, the
// API-token sign-in page) share: a page in the common frame, refusing a form from another site, and
// answering a signed link that does not work.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppError } from '../errors.js';
import { createFailureLimiter } from '../lib/failure-limiter.js';
import { Layout } from './layout.js';
import { messages } from './messages.js';

/** Answers with a page: never cached, never indexed, since pages behind email links carry tokens and one-time state. */
export function sendPage(reply: FastifyReply, status: number, title: string, body: JSX.Element) {
  const html = (
    <Layout title={title} noindex>
      <h1 safe>{title}</h1>
      {body}
    </Layout>
  );
  return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html);
}

/**
 * preHandler for the pages' POSTs: refuses a form submitted from another site (login CSRF, or
 * mass-mailing through visitors' browsers). Browsers say where a request comes from in
 * Sec-Fetch-Site (or at least Origin); a request with neither is not from a browser form.
 */
export async function sameSiteOnly(request: FastifyRequest, reply: FastifyReply) {
  const site = request.headers['sec-fetch-site'];
  const origin = request.headers.origin;
  let allowed = true;
  if (typeof site === 'string') allowed = site === 'same-origin' || site === 'none';
  else if (typeof origin === 'string') allowed = origin === `${request.protocol}://${request.host}`;
  if (!allowed) {
    return sendPage(reply, 403, messages.links.notAllowedTitle, <p>{messages.links.notAllowed}</p>);
  }
}

/** Links that do not work per minute from one client before 429. */
export const BAD_LINKS_PER_MINUTE = 30;

/**
 * The answer to a signed email link that does not work (cancel a pitch, take a waitlist offer, confirm
 * or leave a newsletter). Genuine links are never limited: mail providers and link scanners open them
 * in bursts from a few addresses, and the signed token is the proof. Links that do not work count
 * against the client, and only they are ever refused with 429, so guessing tokens stays slow.
 */
export function badLinkAnswer(perMinute = BAD_LINKS_PER_MINUTE) {
  const failures = createFailureLimiter(perMinute);
  return (request: FastifyRequest, reply: FastifyReply, explanation: string) => {
    const now = Date.now();
    // Every link that does not work counts alike, whichever link it was.
    failures.recordFailure(request.ip, 'link', now);
    const wait = failures.blockedFor(request.ip, 'link', now);
    if (wait > 0) {
      const tryAgain = messages.links.tryAgainIn(wait);
      return sendPage(reply.header('retry-after', String(wait)), 429, messages.links.tooManyTitle, <p safe>{tryAgain}</p>);
    }
    return sendPage(reply, 404, messages.links.brokenTitle, <p safe>{explanation}</p>);
  };
}

/**
 * A refusal in words for a page: the catalogue's sentence for its code (translated with the pages),
 * or the service's own words where the page has none (a title too long, for one).
 */
export function problemInWords(error: AppError): string {
  return messages.problems[error.code] ?? error.message;
}
