// Mailgun's webhook for bounces and complaints: POST /webhooks/mailgun, signed with the webhook signing
// key (MAILGUN_WEBHOOK_SIGNING_KEY); without the key it answers 404, as if it did not exist.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { problem } from '../../errors.js';
import { declareTag } from '../../plugins/openapi.js';
import type { BouncesService } from './bounces.service.js';

const MailgunBody = Type.Object(
  {
    signature: Type.Object({
      timestamp: Type.Union([Type.String({ maxLength: 20 }), Type.Integer()], { description: 'Seconds since 1970, as Mailgun sent it' }),
      token: Type.String({ minLength: 1, maxLength: 200, description: 'A random string Mailgun makes for each request' }),
      signature: Type.String({ minLength: 64, maxLength: 64, description: 'HMAC-SHA256 of timestamp and token, in hex' }),
    }),
    'event-data': Type.Record(Type.String(), Type.Unknown(), {
      description: 'The event: failed (severity permanent or temporary) and complained are acted on, others ignored',
    }),
  },
  { description: "Mailgun's webhook payload" },
);

const Received = Type.Object({
  received: Type.Integer({ description: 'Findings acted on (0 or 1)' }),
  ignored: Type.Optional(Type.String({ description: 'Why nothing was done' })),
});

export const bouncesRoutes: FastifyPluginAsyncTypebox<{ bounces: BouncesService }> = async (app, { bounces }) => {
  declareTag(app, { name: 'mail', description: 'What comes back after a send: bounces and complaints' });
  app.post('/webhooks/mailgun', {
    config: { errors: ['WEBHOOK_SIGNATURE_INVALID'], auth: 'public' },
    // Before the body is read: an instance that takes no Mailgun events says nothing about their shape.
    preValidation: async () => {
      if (!bounces.mailgunEnabled)
        throw problem('ROUTE_NOT_FOUND', 'This instance takes no Mailgun events (MAILGUN_WEBHOOK_SIGNING_KEY is not set)');
    },
    schema: {
      operationId: 'mailgunWebhook',
      tags: ['mail'],
      summary:
        "Mailgun's failed and complained events: a permanent failure or a complaint suppresses the address in every cluster, " +
        'a temporary one counts towards SOFT_BOUNCE_LIMIT (on when MAILGUN_WEBHOOK_SIGNING_KEY is set)',
      body: MailgunBody,
      response: { 200: Received },
    },
    handler: async (request) => {
      const answer = bounces.mailgun(request.body.signature, request.body['event-data']);
      if (!answer) throw problem('WEBHOOK_SIGNATURE_INVALID', 'The signature is not one Mailgun made with this key in the last 5 minutes');
      // Who it was about stays here: the answer goes back to Mailgun, not to organisers.
      return { received: answer.outcomes.length, ...(answer.ignored ? { ignored: answer.ignored } : {}) };
    },
  });
};
