// GET and PATCH /v1/clusters/{cluster}: the public profile and the organiser's settings.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../plugins/auth.js';
import { normaliseEmail } from '../../lib/text.js';
import { calendarLinks, clusterCalendarUrl } from '../feeds/feeds.links.js';
import { ClusterParams, ClusterPatch, ClusterProfile } from './clusters.schemas.js';
import type { Cluster, ClustersService } from './clusters.service.js';

export function toProfile(cluster: Cluster, baseUrl: string) {
  return {
    slug: cluster.slug,
    name: cluster.name,
    timezone: cluster.timezone,
    contactEmail: cluster.contactEmail,
    websiteUrl: cluster.websiteUrl,
    themes: cluster.themes,
    bookingPolicy: cluster.bookingPolicy,
    calendar: calendarLinks(clusterCalendarUrl(baseUrl, cluster.slug)),
    createdAt: cluster.createdAt.toISOString(),
    updatedAt: cluster.updatedAt.toISOString(),
  };
}

export const clustersRoutes: FastifyPluginAsyncTypebox<{ clusters: ClustersService }> = async (app, { clusters }) => {
  app.get('/v1/clusters/:cluster', {
    config: { errors: ['CLUSTER_NOT_FOUND'], auth: 'public' },
    schema: {
      operationId: 'getCluster',
      tags: ['clusters'],
      summary: 'Get a cluster\'s public profile',
      params: ClusterParams,
      response: { 200: ClusterProfile },
    },
    handler: async (request) => toProfile(clusters.get(request.params.cluster), app.config.publicBaseUrl),
  });

  app.patch('/v1/clusters/:cluster', {
    config: { errors: ['CLUSTER_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'updateCluster',
      tags: ['clusters'],
      summary: 'Change a cluster\'s name, time zone, contact, themes or booking policy defaults',
      params: ClusterParams,
      body: ClusterPatch,
      response: { 200: ClusterProfile },
    },
    handler: async (request) => {
      const { contactEmail, ...rest } = request.body;
      const updated = clusters.update(
        request.params.cluster,
        { ...rest, ...(contactEmail !== undefined ? { contactEmail: contactEmail && normaliseEmail(contactEmail) } : {}) },
        actorOf(request),
      );
      return toProfile(updated, app.config.publicBaseUrl);
    },
  });
};
