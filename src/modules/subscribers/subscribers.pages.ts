// The pages behind the newsletter's email links. A GET only shows a page with a button (mail scanners
// follow links); the POST does the work. POST /unsubscribe is also RFC 8058 one-click: mail providers
// send `List-Unsubscribe=One-Click` as form-urlencoded or multipart, with no cookie, and get 200.
import multipart from '@fastify/multipart';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { TOPICS, type Topic } from '../../db/schema.js';
import { isAppError } from '../../errors.js';
import { badLinkAnswer } from '../../shared/pages.js';
import { escapeHtml } from '../../lib/html.js';
import { formField, formFields, p, postForm } from '../../lib/page.js';
import { sendPage, sameSiteOnly } from '../../shared/pages.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import { topicList } from './subscribers.emails.js';
import type { LinkPurpose, RequestContext, Subscriber, SubscribersService } from './subscribers.service.js';
import { formBodies } from '../../plugins/bodies.js';

const FORM_LIMIT_BYTES = 4096;
const TOPIC_LABELS: Record<Topic, string> = {
  newsletter: 'The newsletter',
  'huddle-invites': 'Invitations to huddles',
  'pitch-digest': 'A digest of the pitches',
};

/** A form field, whether the body came form-urlencoded or multipart (both arrive as key-value objects). */
function tokenOf(request: FastifyRequest): string | undefined {
  const query = (request.query as { token?: unknown }).token;
  return typeof query === 'string' ? query : formField(request, 'token');
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
  const unknown = (request: FastifyRequest, reply: FastifyReply) =>
    badLink(
      request,
      reply,
      'The link is not complete, or not one of ours, or the subscription no longer exists. Use the link in your most recent ' +
        'email from us.',
    );

  app.get('/subscriptions/confirm', { schema: { hide: true } }, async (request, reply) => {
    const subscriber = lookup('confirm', request);
    if (!subscriber) return unknown(request, reply);
    const cluster = clusters.getById(subscriber.clusterId);
    if (subscriber.status === 'confirmed')
      return sendPage(reply, 200, 'You are subscribed', p(`You receive ${topicList(subscriber.topics)} from ${cluster.name}.`));
    if (subscriber.status !== 'pending' || subscribers.pendingExpired(subscriber, app.clock.now()))
      return sendPage(reply, 410, 'This link has expired', p('Sign up again to get a new one.'));
    return sendPage(
      reply,
      200,
      `Confirm your subscription to ${cluster.name}`,
      [
        p(`You asked to receive ${topicList(subscriber.topics)} at ${subscriber.email}.`),
        postForm('/subscriptions/confirm', { token: tokenOf(request)! }, 'Confirm my subscription'),
      ].join('\n'),
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
          'You are subscribed',
          [
            p(`Thank you: you will receive ${topicList(confirmed.topics)} from ${cluster.name}.`),
            `<p><a href="${escapeHtml(subscribers.link('preferences', confirmed.id))}">Choose what you receive</a></p>`,
          ].join('\n'),
        );
      } catch (error) {
        if (!isAppError(error) || error.statusCode >= 500) throw error;
        return sendPage(reply, error.statusCode, 'This link has expired', p('Sign up again to get a new one.'));
      }
    },
  );

  app.get('/unsubscribe', { schema: { hide: true } }, async (request, reply) => {
    const subscriber = lookup('unsubscribe', request);
    if (!subscriber) return unknown(request, reply);
    const cluster = clusters.getById(subscriber.clusterId);
    if (subscriber.status === 'unsubscribed')
      return sendPage(reply, 200, 'You are unsubscribed', p(`${subscriber.email} receives nothing more from ${cluster.name}.`));
    const action = `/unsubscribe?token=${encodeURIComponent(tokenOf(request)!)}`;
    return sendPage(
      reply,
      200,
      `Unsubscribe from ${cluster.name}`,
      [
        p(`Stop all emails from ${cluster.name} to ${subscriber.email}?`),
        postForm(action, { 'List-Unsubscribe': 'One-Click' }, 'Unsubscribe'),
      ].join('\n'),
    );
  });

  // No same-site check here: mail providers post one-click unsubscribes from their own servers.
  app.post('/unsubscribe', { schema: { hide: true }, bodyLimit: FORM_LIMIT_BYTES }, async (request, reply) => {
    const subscriber = lookup('unsubscribe', request);
    if (!subscriber) return unknown(request, reply);
    const oneClick = formField(request, 'List-Unsubscribe') === 'One-Click';
    const after = subscribers.unsubscribe(subscriber, context(request, oneClick ? 'one-click' : 'email-link'));
    const cluster = clusters.getById(after.clusterId);
    return sendPage(
      reply,
      200,
      'You are unsubscribed',
      p(`${after.email} receives nothing more from ${cluster.name}. If this was a mistake, sign up again on the cluster's website.`),
    );
  });

  function preferencesForm(subscriber: Subscriber, token: string, themes: string[]): string {
    const topicBoxes = TOPICS.map(
      (topic) =>
        `<label><input type="checkbox" name="topics" ` +
        `value="${topic}"${subscriber.topics.includes(topic) && subscriber.status !== 'unsubscribed' ? ' checked' : ''}> ` +
        `${TOPIC_LABELS[topic]}</label>`,
    ).join('\n');
    const themeBoxes = themes
      .map(
        (theme) =>
          `<label><input type="checkbox" name="themes" ` +
          `value="${escapeHtml(theme)}"${subscriber.themes.includes(theme) ? ' checked' : ''}> ${escapeHtml(theme)}</label>`,
      )
      .join('\n');
    return [
      '<form method="post" action="/preferences">',
      `<input type="hidden" name="token" value="${escapeHtml(token)}">`,
      `<fieldset><legend>What you receive</legend>\n${topicBoxes}\n</fieldset>`,
      themes.length > 0 ? `<fieldset><legend>Only these themes (none ticked: all of them)</legend>\n${themeBoxes}\n</fieldset>` : '',
      '<button type="submit">Save</button>',
      '</form>',
      p('Untick everything to stop all emails.', 'note'),
    ].join('\n');
  }

  app.get('/preferences', { schema: { hide: true } }, async (request, reply) => {
    const subscriber = lookup('preferences', request);
    if (!subscriber) return unknown(request, reply);
    const cluster = clusters.getById(subscriber.clusterId);
    return sendPage(
      reply,
      200,
      `Your ${cluster.name} emails`,
      [p(subscriber.email), preferencesForm(subscriber, tokenOf(request)!, cluster.themes)].join('\n'),
    );
  });

  app.post('/preferences', { schema: { hide: true }, bodyLimit: FORM_LIMIT_BYTES, preHandler: sameSiteOnly }, async (request, reply) => {
    const subscriber = lookup('preferences', request);
    if (!subscriber) return unknown(request, reply);
    const cluster = clusters.getById(subscriber.clusterId);
    if (subscriber.status === 'pending')
      return sendPage(
        reply,
        409,
        'Please confirm first',
        p('Use the confirmation link we emailed you; then you can choose what you receive.'),
      );
    const topics = formFields(request, 'topics').filter((topic): topic is Topic => (TOPICS as readonly string[]).includes(topic));
    const themes = formFields(request, 'themes').filter((theme) => cluster.themes.includes(theme));
    const after = subscribers.updatePreferences(subscriber, cluster, { topics, themes }, context(request, 'email-link'));
    const summary =
      after.status === 'unsubscribed'
        ? p('You are unsubscribed: you receive nothing more.')
        : p(`Saved: you receive ${topicList(after.topics)}.`);
    return sendPage(
      reply,
      200,
      'Preferences saved',
      [summary, preferencesForm(after, formField(request, 'token') ?? '', cluster.themes)].join('\n'),
    );
  });
};
