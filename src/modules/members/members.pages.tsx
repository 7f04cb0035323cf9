// The sign-in pages a member reaches from an email. Opening the link (GET) changes nothing, since mail
// scanners follow links; the button on the page POSTs the code and shows the new token once.
import type { FastifyPluginAsync } from 'fastify';
import { isAppError } from '../../errors.js';
import { ButtonForm } from '../../shared/forms.js';
import { dates, messages } from '../../shared/messages.js';
import { sendPage, sameSiteOnly } from '../../shared/pages.js';
import type { MembersService } from './members.service.js';
import { sendLinkAfterResponse } from './members.routes.js';
import type { SignIn } from './members.sign-in.js';
import { memberFeedLinks } from './members.view.js';
import { formBodies } from '../../plugins/bodies.js';

const FORM_LIMIT_BYTES = 4096;
const m = messages.apiToken;

function EmailForm() {
  return (
    <form method="post" action="/sign-in/link">
      <label for="email">{m.email}</label>
      <input type="email" id="email" name="email" autocomplete="email" required maxlength="254" />
      <p>
        <button type="submit">{m.send}</button>
      </p>
    </form>
  );
}

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
        m.title,
        <>
          <p>{m.intro}</p>
          <EmailForm />
        </>,
      );
    }
    return sendPage(
      reply,
      200,
      m.finishTitle,
      <>
        <p>{m.finish}</p>
        <ButtonForm action="/sign-in" hidden={{ code }} button={m.button} />
        <p class="note">{messages.signIn.notYou}</p>
      </>,
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
          m.expiredTitle,
          <>
            <div class="error">
              <p>{m.expired}</p>
            </div>
            <p>{m.askAgain}</p>
            <EmailForm />
          </>,
        );
      }
      const member = members.byId(issued.memberId)!;
      const links = memberFeedLinks(baseUrl, members.feedToken(member));
      return sendPage(
        reply,
        200,
        m.signedInTitle(member.name),
        <>
          <h2>{m.tokenHeading}</h2>
          <p>{m.tokenIntro}</p>
          <p class="secret" id="token" safe>
            {issued.token}
          </p>
          <p class="note" safe>
            {m.tokenUntil(dates.day(issued.expiresAt, 'UTC'))}
          </p>
          <h2>{m.calendarHeading}</h2>
          <p safe>{m.calendarIntro}</p>
          <p>
            <a href={links.webcal}>{messages.me.subscribe}</a>
          </p>
          <p>
            <a href={links.google}>{messages.me.google}</a>
          </p>
          <p class="secret" safe>
            {links.ics}
          </p>
        </>,
      );
    },
  );

  app.post('/sign-in/link', {
    schema: { hide: true },
    config: { rateLimit },
    bodyLimit: FORM_LIMIT_BYTES,
    preHandler: sameSiteOnly,
    handler: async (_request, reply) => sendPage(reply, 200, messages.signIn.sentTitle, <p>{messages.signIn.sent}</p>),
    // Only a request answered normally sends mail (not one refused as cross-site or rate-limited).
    onResponse: async (request, reply) => {
      if (reply.statusCode === 200) sendLinkAfterResponse(signIn, field(request.body, 'email') ?? '', request.log);
    },
  });
};
