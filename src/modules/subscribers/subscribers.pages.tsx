// The pages behind the newsletter's email links. A GET only shows a page with a button (mail scanners
// follow links); the POST does the work. POST /unsubscribe is also RFC 8058 one-click: mail providers
// send `List-Unsubscribe=One-Click` as form-urlencoded or multipart, with no cookie, and get 200.
import multipart from '@fastify/multipart';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { TOPICS, type Topic } from '../../db/schema.js';
import { isAppError } from '../../errors.js';
import { formField, formFields } from '../../lib/page.js';
import { ButtonForm } from '../../shared/forms.js';
import { messages, topicsInWords } from '../../shared/messages.js';
import { badLinkAnswer, sendPage, sameSiteOnly } from '../../shared/pages.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { LinkPurpose, RequestContext, Subscriber, SubscribersService } from './subscribers.service.js';
import { formBodies } from '../../plugins/bodies.js';

const FORM_LIMIT_BYTES = 4096;
const m = messages.subscription;

/** A form field, whether the body came form-urlencoded or multipart (both arrive as key-value objects). */
function tokenOf(request: FastifyRequest): string | undefined {
  const query = (request.query as { token?: unknown }).token;
  return typeof query === 'string' ? query : formField(request, 'token');
}

/** What a subscriber receives and which themes, as a form; unticking everything unsubscribes. */
function PreferencesForm(props: { subscriber: Subscriber; token: string; themes: string[] }) {
  const { subscriber, token, themes } = props;
  const receives = (topic: Topic) => subscriber.topics.includes(topic) && subscriber.status !== 'unsubscribed';
  return (
    <>
      <form method="post" action="/preferences">
        <input type="hidden" name="token" value={token} />
        <fieldset>
          <legend>{m.whatYouReceive}</legend>
          {TOPICS.map((topic) => (
            <label class="choice">
              <input type="checkbox" name="topics" value={topic} checked={receives(topic)} /> {messages.topicNames[topic]}
            </label>
          ))}
        </fieldset>
        {themes.length > 0 ? (
          <fieldset>
            <legend>{m.onlyThemes}</legend>
            {themes.map((theme) => (
              <label class="choice">
                <input type="checkbox" name="themes" value={theme} checked={subscriber.themes.includes(theme)} /> <span safe>{theme}</span>
              </label>
            ))}
          </fieldset>
        ) : (
          ''
        )}
        <button type="submit">{m.save}</button>
      </form>
      <p class="note">{m.untickAll}</p>
    </>
  );
}

export const subscribersPages: FastifyPluginAsync<{ subscribers: SubscribersService; clusters: ClustersService }> = async (
  app,
  { subscribers, clusters },
) => {
  await app.register(formBodies, { bodyLimit: FORM_LIMIT_BYTES });
  await app.register(multipart, { attachFieldsToBody: 'keyValues', limits: { fields: 10, fieldSize: 1024, files: 0, parts: 10 } });
  // No per-address limit: a genuine link never fails for load (lib/bad-links.ts).
  const badLink = badLinkAnswer();
  const context = (request: FastifyRequest, source: RequestContext['source']): RequestContext => ({
    source,
    ip: request.ip,
    userAgent: request.headers['user-agent'] ?? null,
  });

  function lookup(purpose: LinkPurpose, request: FastifyRequest): Subscriber | undefined {
    const token = tokenOf(request);
    return token ? subscribers.fromLink(purpose, token) : undefined;
  }
  const unknown = (request: FastifyRequest, reply: FastifyReply) => badLink(request, reply, m.brokenLink);
  const expired = (reply: FastifyReply, status: number) => sendPage(reply, status, m.expiredTitle, <p>{m.expired}</p>);

  app.get('/subscriptions/confirm', { schema: { hide: true } }, async (request, reply) => {
    const subscriber = lookup('confirm', request);
    if (!subscriber) return unknown(request, reply);
    const cluster = clusters.getById(subscriber.clusterId);
    const topics = topicsInWords(subscriber.topics);
    if (subscriber.status === 'confirmed') return sendPage(reply, 200, m.subscribedTitle, <p safe>{m.receiving(topics, cluster.name)}</p>);
    if (subscriber.status !== 'pending' || subscribers.pendingExpired(subscriber, app.clock.now())) return expired(reply, 410);
    return sendPage(
      reply,
      200,
      m.confirmTitle(cluster.name),
      <>
        <p safe>{m.asked(topics, subscriber.email)}</p>
        <ButtonForm action="/subscriptions/confirm" hidden={{ token: tokenOf(request)! }} button={m.confirmButton} />
      </>,
    );
  });

  app.post(
    '/subscriptions/confirm',
    { schema: { hide: true }, bodyLimit: FORM_LIMIT_BYTES, preHandler: sameSiteOnly },
    async (request, reply) => {
      const subscriber = lookup('confirm', request);
      if (!subscriber) return unknown(request, reply);
      try {
        const confirmed = subscribers.confirm(subscriber, context(request, 'email-link'));
        const cluster = clusters.getById(confirmed.clusterId);
        return sendPage(
          reply,
          200,
          m.subscribedTitle,
          <>
            <p safe>{m.thankYou(topicsInWords(confirmed.topics), cluster.name)}</p>
            <p>
              <a href={subscribers.link('preferences', confirmed.id)}>{m.choose}</a>
            </p>
          </>,
        );
      } catch (error) {
        if (!isAppError(error) || error.statusCode >= 500) throw error;
        return expired(reply, error.statusCode);
      }
    },
  );

  app.get('/unsubscribe', { schema: { hide: true } }, async (request, reply) => {
    const subscriber = lookup('unsubscribe', request);
    if (!subscriber) return unknown(request, reply);
    const cluster = clusters.getById(subscriber.clusterId);
    if (subscriber.status === 'unsubscribed')
      return sendPage(reply, 200, m.unsubscribedTitle, <p safe>{m.nothingMore(subscriber.email, cluster.name)}</p>);
    const action = `/unsubscribe?token=${encodeURIComponent(tokenOf(request)!)}`;
    return sendPage(
      reply,
      200,
      m.unsubscribeTitle(cluster.name),
      <>
        <p safe>{m.stopAll(cluster.name, subscriber.email)}</p>
        <ButtonForm action={action} hidden={{ 'List-Unsubscribe': 'One-Click' }} button={m.unsubscribeButton} />
      </>,
    );
  });

  // No same-site check here: mail providers post one-click unsubscribes from their own servers.
  app.post('/unsubscribe', { schema: { hide: true }, bodyLimit: FORM_LIMIT_BYTES }, async (request, reply) => {
    const subscriber = lookup('unsubscribe', request);
    if (!subscriber) return unknown(request, reply);
    const oneClick = formField(request, 'List-Unsubscribe') === 'One-Click';
    const after = subscribers.unsubscribe(subscriber, context(request, oneClick ? 'one-click' : 'email-link'));
    const cluster = clusters.getById(after.clusterId);
    return sendPage(reply, 200, m.unsubscribedTitle, <p safe>{`${m.nothingMore(after.email, cluster.name)} ${m.mistake}`}</p>);
  });

  app.get('/preferences', { schema: { hide: true } }, async (request, reply) => {
    const subscriber = lookup('preferences', request);
    if (!subscriber) return unknown(request, reply);
    const cluster = clusters.getById(subscriber.clusterId);
    return sendPage(
      reply,
      200,
      m.preferencesTitle(cluster.name),
      <>
        <p safe>{subscriber.email}</p>
        <PreferencesForm subscriber={subscriber} token={tokenOf(request)!} themes={cluster.themes} />
      </>,
    );
  });

  app.post('/preferences', { schema: { hide: true }, bodyLimit: FORM_LIMIT_BYTES, preHandler: sameSiteOnly }, async (request, reply) => {
    const subscriber = lookup('preferences', request);
    if (!subscriber) return unknown(request, reply);
    const cluster = clusters.getById(subscriber.clusterId);
    if (subscriber.status === 'pending') return sendPage(reply, 409, m.confirmFirstTitle, <p>{m.confirmFirst}</p>);
    const topics = formFields(request, 'topics').filter((topic): topic is Topic => (TOPICS as readonly string[]).includes(topic));
    const themes = formFields(request, 'themes').filter((theme) => cluster.themes.includes(theme));
    const after = subscribers.updatePreferences(subscriber, cluster, { topics, themes }, context(request, 'email-link'));
    const summary = after.status === 'unsubscribed' ? m.savedNothing : m.saved(topicsInWords(after.topics));
    return sendPage(
      reply,
      200,
      m.savedTitle,
      <>
        <p safe>{summary}</p>
        <PreferencesForm subscriber={after} token={formField(request, 'token') ?? ''} themes={cluster.themes} />
      </>,
    );
  });
};
