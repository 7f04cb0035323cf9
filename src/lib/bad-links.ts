// The answer to a signed email link that does not work (cancel a pitch, take a waitlist offer, confirm
// or leave a newsletter). Genuine links are never limited: mail providers and link scanners open them in
// bursts from a few addresses, and the signed token is the proof. Links that do not work count against
// the client, and only they are ever refused with 429, so guessing tokens stays slow.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createFailureLimiter } from './failure-limiter.js';
import { p, sendPage } from './page.js';

/** Links that do not work per minute from one client before 429. */
export const BAD_LINKS_PER_MINUTE = 30;

/** Answers a link that does not work: 404 with `explanation`, or 429 once the client has sent too many. */
export function badLinkAnswer(perMinute = BAD_LINKS_PER_MINUTE) {
  const failures = createFailureLimiter(perMinute);
  return (request: FastifyRequest, reply: FastifyReply, explanation: string) => {
    const now = Date.now();
    // Every link that does not work counts alike, whichever link it was.
    failures.recordFailure(request.ip, 'link', now);
    const wait = failures.blockedFor(request.ip, 'link', now);
    if (wait > 0) {
      return sendPage(reply.header('retry-after', String(wait)), 429, 'Too many links that do not work', p(`Try again in ${wait} s.`));
    }
    return sendPage(reply, 404, 'This link does not work', p(explanation));
  };
}
