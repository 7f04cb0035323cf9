// Campaigns over HTTP for organisers: create a draft, schedule it (the server sends it then) or send it from
// the command line, pause it, and read its figures.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { TOPICS, type Topic } from '../../db/schema.js';
import { problem } from '../../errors.js';
import { Email, Id, Line, Slug } from '../../lib/schema-types.js';
import { actorOf, organiserOf } from '../../plugins/auth.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { OrganisersService } from '../organisers/organisers.service.js';
import { MAX_RATE, type Campaign, type CampaignsService } from './campaigns.service.js';
import { campaignView } from './campaigns.view.js';

const CampaignView = Type.Object({
  id: Id,
  cluster: Type.String(),
  subject: Type.String(),
  topic: Type.String(),
  theme: Type.Union([Type.String(), Type.Null()]),
  status: Type.String({
    description:
      'draft, sending, paused, sent, or interrupted: marked sending but its sender has stopped without pausing it ' +
      '(`newsletter resume` carries on)',
  }),
  rate: Type.Integer({ description: 'Messages per second' }),
  createdAt: Type.String({ format: 'date-time' }),
  startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  scheduledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'When the server starts sending it (a draft), or started it; null: sent from the command line',
  }),
  stats: Type.Object({
    recipients: Type.Integer(),
    pending: Type.Integer({ description: 'Not yet handed to the mail queue' }),
    queued: Type.Integer({ description: 'In the mail queue (or being retried)' }),
    sent: Type.Integer(),
    failed: Type.Integer(),
    skipped: Type.Integer({ description: 'Unsubscribed, left the topic or suppressed by the time their copy was to be sent' }),
    bounced: Type.Integer({ description: "Sent, then reported undeliverable for good by the recipient's mail server (suppressed)" }),
    softBounced: Type.Integer({
      description: 'Sent, then reported not delivered for now (full mailbox, server down); counted towards SOFT_BOUNCE_LIMIT',
    }),
    complained: Type.Integer({
      description: 'Sent, then reported as spam by the recipient through their provider (suppressed, unsubscribed)',
    }),
    unsubscribedSince: Type.Integer({ description: 'Sent to, and unsubscribed since the campaign started' }),
  }),
  sendCommand: Type.String({ description: 'How to send a draft from the command line' }),
});

const DraftBody = Type.Object(
  {
    subject: Line({ description: 'Subject line', maxLength: 200 }),
    body: Type.String({
      description:
        'The message in Markdown. Merge fields, in the body and the subject, make each copy personal: {{name}}, ' +
        '{{first_name}}, {{cluster}}, {{preferences_url}}, {{unsubscribe_url}}, with a fallback for an empty value ' +
        '({{first_name|there}}); an unknown field is refused (VALIDATION_FAILED)',
      minLength: 1,
      maxLength: 200_000,
    }),
    topic: Type.Optional(
      Type.Union(
        TOPICS.map((t) => Type.Literal(t)),
        { description: 'Who receives it (default: newsletter)' },
      ),
    ),
    theme: Type.Optional(Type.String({ maxLength: 40, description: 'Only subscribers who follow this theme' })),
    rate: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_RATE, description: 'Messages per second' })),
  },
  { additionalProperties: false },
);

/** The same fields, each optional: a change to a draft. */
const DraftPatch = Type.Partial(DraftBody, { additionalProperties: false, minProperties: 1 });

export const campaignsRoutes: FastifyPluginAsyncTypebox<{
  campaigns: CampaignsService;
  clusters: ClustersService;
  organisers: OrganisersService;
}> = async (app, { campaigns, clusters, organisers }) => {
  // The newsletter tag is the subscribers module's; these routes share it.
  const view = (campaign: Campaign, slug: string) => campaignView(campaign, campaigns.state(campaign), slug, campaigns.stats(campaign.id));

  app.post('/v1/clusters/:cluster/campaigns', {
    config: { errors: ['CLUSTER_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'createCampaign',
      tags: ['newsletter'],
      summary: 'Create a newsletter draft (Markdown body); schedule it, or send it with the command line',
      params: Type.Object({ cluster: Slug }),
      body: DraftBody,
      response: { 201: CampaignView },
    },
    handler: async (request, reply) => {
      const cluster = clusters.get(request.params.cluster);
      const campaign = campaigns.createDraft(cluster, request.body, actorOf(request));
      return reply.code(201).header('location', `/v1/campaigns/${campaign.id}`).send(view(campaign, cluster.slug));
    },
  });

  app.patch('/v1/campaigns/:id', {
    config: { errors: ['CAMPAIGN_NOT_FOUND', 'CAMPAIGN_STARTED'], auth: ['organiser'] },
    schema: {
      operationId: 'updateCampaign',
      tags: ['newsletter'],
      summary: 'Change a draft (subject, body, topic, theme, rate); refused once it has started',
      params: Type.Object({ id: Id }),
      body: DraftPatch,
      response: { 200: CampaignView },
    },
    handler: async (request) => {
      const organiser = organiserOf(request);
      const cluster = clusters.get(organiser.clusterSlug);
      const campaign = owned(request, request.params.id);
      const changed = campaigns.updateDraft(
        cluster,
        campaign.id,
        {
          subject: request.body.subject ?? campaign.subject,
          body: request.body.body ?? campaign.bodyMarkdown,
          topic: request.body.topic ?? (campaign.topic as Topic),
          ...((request.body.theme ?? campaign.theme) ? { theme: (request.body.theme ?? campaign.theme)! } : {}),
          rate: request.body.rate ?? campaign.rate,
        },
        actorOf(request),
      );
      return view(changed, organiser.clusterSlug);
    },
  });

  app.get('/v1/campaigns/:id', {
    config: { errors: ['CAMPAIGN_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'getCampaign',
      tags: ['newsletter'],
      summary: 'A campaign and its delivery figures',
      params: Type.Object({ id: Id }),
      response: { 200: CampaignView },
    },
    handler: async (request) => {
      const organiser = organiserOf(request);
      const campaign = campaigns.get(request.params.id);
      if (campaign.clusterId !== organiser.clusterId) throw problem('CAMPAIGN_NOT_FOUND', `There is no campaign ${request.params.id}`);
      return view(campaign, organiser.clusterSlug);
    },
  });

  /** An organiser's campaign, addressed by id: another cluster's is "not found". */
  function owned(request: Parameters<typeof organiserOf>[0], id: string): Campaign {
    const campaign = campaigns.get(id);
    if (campaign.clusterId !== organiserOf(request).clusterId) throw problem('CAMPAIGN_NOT_FOUND', `There is no campaign ${id}`);
    return campaign;
  }

  app.post('/v1/campaigns/:id/schedule', {
    config: { errors: ['CAMPAIGN_NOT_FOUND', 'CAMPAIGN_STARTED', 'NONEXISTENT_LOCAL_TIME'], auth: ['organiser'] },
    schema: {
      operationId: 'scheduleCampaign',
      tags: ['newsletter'],
      summary:
        "Schedule a draft: the server starts sending it at that time (in the cluster's zone unless an offset is given), at its " +
        'rate, as `newsletter send` would. `{"at": null}` unschedules it.',
      params: Type.Object({ id: Id }),
      body: Type.Object(
        {
          at: Type.Union([Type.String({ minLength: 10, maxLength: 40 }), Type.Null()], {
            description: "A local date and time in the cluster's zone (2026-12-01T09:00), or ISO 8601 with an offset; null: not scheduled",
          }),
        },
        { additionalProperties: false },
      ),
      response: { 200: CampaignView },
    },
    handler: async (request) => {
      const campaign = owned(request, request.params.id);
      return view(campaigns.schedule(campaign.id, request.body.at, actorOf(request)), organiserOf(request).clusterSlug);
    },
  });

  app.post('/v1/campaigns/:id/send', {
    config: { errors: ['CAMPAIGN_NOT_FOUND', 'CAMPAIGN_STARTED'], auth: ['organiser'] },
    schema: {
      operationId: 'sendCampaign',
      tags: ['newsletter'],
      summary: "Send a draft now: the server's worker starts it within seconds, at its rate (the command line is the other way to send)",
      params: Type.Object({ id: Id }),
      response: { 200: CampaignView },
    },
    handler: async (request) => {
      const organiser = organiserOf(request);
      return view(campaigns.sendNow(clusters.get(organiser.clusterSlug), request.params.id, actorOf(request)), organiser.clusterSlug);
    },
  });

  app.post('/v1/campaigns/:id/test', {
    config: { errors: ['CAMPAIGN_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'testCampaign',
      tags: ['newsletter'],
      summary: 'Email one test copy (subject marked [Test]) to an address, by default your own',
      params: Type.Object({ id: Id }),
      body: Type.Object({ to: Type.Optional(Email) }, { additionalProperties: false }),
      response: { 202: Type.Object({ to: Type.String({ description: 'Where the test copy went' }) }) },
    },
    handler: async (request, reply) => {
      const organiser = organiserOf(request);
      const to = request.body.to ?? organisers.emailOf(organiser.organiserId);
      campaigns.sendTest(clusters.get(organiser.clusterSlug), request.params.id, to, actorOf(request));
      return reply.code(202).send({ to });
    },
  });

  app.post('/v1/campaigns/:id/pause', {
    config: { errors: ['CAMPAIGN_NOT_FOUND', 'CAMPAIGN_NOT_SENDING'], auth: ['organiser'] },
    schema: {
      operationId: 'pauseCampaign',
      tags: ['newsletter'],
      summary:
        'Pause a campaign being sent (by the server or a command line): nothing more leaves but the messages being handed to ' +
        'the mail server this instant; `POST /v1/campaigns/{id}/resume` (or `newsletter resume`) carries on',
      params: Type.Object({ id: Id }),
      response: { 200: CampaignView },
    },
    handler: async (request) => {
      const campaign = owned(request, request.params.id);
      return view(campaigns.pause(campaign.id, actorOf(request)), organiserOf(request).clusterSlug);
    },
  });

  app.post('/v1/campaigns/:id/resume', {
    config: { errors: ['CAMPAIGN_NOT_FOUND', 'CAMPAIGN_STARTED', 'CAMPAIGN_NOT_SENDING'], auth: ['organiser'] },
    schema: {
      operationId: 'resumeCampaign',
      tags: ['newsletter'],
      summary:
        "Carry on with a paused or interrupted campaign: the server's scheduler takes it up within seconds and sends what is " +
        'left; nobody is mailed twice',
      params: Type.Object({ id: Id }),
      response: { 200: CampaignView },
    },
    handler: async (request) => {
      const campaign = owned(request, request.params.id);
      return view(campaigns.resumeOnServer(campaign.id, actorOf(request)), organiserOf(request).clusterSlug);
    },
  });
};
