// The sign-in pages a member reaches from an email. Opening the link (GET) changes nothing, since mail
// scanners follow links; the button on the page POSTs the code and shows the new token once.
import type { FastifyPluginAsync } from 'fastify';
import { isAppError } from '../../errors.js';
import { escapeHtml } from '../../lib/html.js';
import { p, postForm } from '../../lib/page.js';
import { sendPage, sameSiteOnly } from '../../shared/pages.js';
import type { MembersService } from './members.service.js';
import { ACCEPTED_DETAIL, sendLinkAfterResponse } from './members.routes.js';
import type { SignIn } from './members.sign-in.js';
import { memberFeedLinks } from './members.view.js';
import { formBodies } from '../../plugins/bodies.js';

const FORM_LIMIT_BYTES = 4096;
const EXPIRED_LINK = 'The link was used already, or it has expired (sign-in links last 15 minutes; the one in the welcome email, a week).';

const emailForm = [
  '<form method="post" action="/sign-in/link">',
  '<label for="email">Your email address</label>',
  '<input type="email" id="email" name="email" autocomplete="email" required maxlength="254">',
  '<p><button type="submit">Email me a sign-in link</button></p>',
  '</form>',
].join('\n');

function field(body: unknown, name: string): string | undefined {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}

export const membersPages: FastifyPluginAsync<{ members: MembersService; signIn: SignIn }> = async (app, { members, signIn }) => {
  await app.register(formBodies, { bodyLimit: FORM_LIMIT_BYTES });
  const baseUrl = app.config.publicBaseUrl;
  const rateLimit = { max: app.config.signInRateLimitPerMinute, timeWindow: 60_000 };

  app.get('/sign-in', { schema: { hide: true }, config: { rateLimit } }, async (request, reply) => {
    const code = (request.query as { code?: unknown }).code;
    if (typeof code !== 'string' || code === '') {
      return sendPage(
        reply,
        200,
        'Sign in',
        [p('Convene emails you a link that signs you in. It works once, for 15 minutes.'), emailForm].join('\n'),
      );
    }
    return sendPage(
      reply,
      200,
      'Sign in to Convene',
      [
        p('Press the button to finish signing in. You will see your member token and your private calendar address.'),
        postForm('/sign-in', { code }, 'Sign in'),
        p('Did not ask to sign in? Close this page: nothing happens without the button.', 'note'),
      ].join('\n'),
    );
  });

  app.post(
    '/sign-in',
    { schema: { hide: true }, config: { rateLimit }, bodyLimit: FORM_LIMIT_BYTES, preHandler: sameSiteOnly },
    async (request, reply) => {
      const code = field(request.body, 'code') ?? '';
      let issued;
      try {
        issued = signIn.exchange(code);
      } catch (error) {
        if (!isAppError(error) || error.code !== 'SIGN_IN_CODE_INVALID') throw error;
        return sendPage(
          reply,
          400,
          'This sign-in link no longer works',
          [`<div class="error">${p(EXPIRED_LINK)}</div>`, p('Ask for a new one:'), emailForm].join('\n'),
        );
      }
      const member = members.byId(issued.memberId)!;
      const links = memberFeedLinks(baseUrl, members.feedToken(member));
      return sendPage(
        reply,
        200,
        `Signed in as ${member.name}`,
        [
          '<h2>Your member token</h2>',
          p('Apps and scripts send it as "Authorization: Bearer <token>". It is shown this once: copy it now and keep it private.'),
          `<p class="secret" id="token">${escapeHtml(issued.token)}</p>`,
          p(`It works until ${issued.expiresAt.toISOString().slice(0, 10)} unless you sign out.`, 'note'),
          '<h2>Your private calendar</h2>',
          p(
            'Subscribe to it to see the huddles you attend and your pitch slots, with their online links. Anyone with the address ' +
              'can read it; you can change it from the API.',
          ),
          `<p><a href="${escapeHtml(links.webcal)}">Subscribe in your calendar app</a></p>`,
          `<p><a href="${escapeHtml(links.google)}">Add to Google Calendar</a></p>`,
          `<p class="secret">${escapeHtml(links.ics)}</p>`,
        ].join('\n'),
      );
    },
  );

  app.post('/sign-in/link', {
    schema: { hide: true },
    config: { rateLimit },
    bodyLimit: FORM_LIMIT_BYTES,
    preHandler: sameSiteOnly,
    handler: async (_request, reply) => sendPage(reply, 200, 'Check your email', p(ACCEPTED_DETAIL)),
    // Only a request answered normally sends mail (not one refused as cross-site or rate-limited).
    onResponse: async (request, reply) => {
      if (reply.statusCode === 200) sendLinkAfterResponse(signIn, field(request.body, 'email') ?? '', request.log);
    },
  });
};
