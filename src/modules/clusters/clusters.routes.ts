// GET and PATCH /v1/clusters/{cluster}: the public profile and the organiser's settings.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../../plugins/auth.js';
import { declareTag } from '../../plugins/openapi.js';
import { normaliseEmail } from '../../lib/text.js';
import { ClusterParams, ClusterPatch, ClusterProfile } from './clusters.schemas.js';
import type { ClustersService } from './clusters.service.js';
import { clusterProfile } from './clusters.view.js';

export const clustersRoutes: FastifyPluginAsyncTypebox<{ clusters: ClustersService }> = async (app, { clusters }) => {
  declareTag(app, { name: 'clusters', description: 'Cluster profiles and settings' });
  app.get('/v1/clusters/:cluster', {
    config: { errors: ['CLUSTER_NOT_FOUND'], auth: 'public' },
    schema: {
      operationId: 'getCluster',
      tags: ['clusters'],
      summary: "Get a cluster's public profile",
      params: ClusterParams,
      response: { 200: ClusterProfile },
    },
    handler: async (request) => clusterProfile(clusters.get(request.params.cluster), app.config.publicBaseUrl),
  });

  app.patch('/v1/clusters/:cluster', {
    config: { errors: ['CLUSTER_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'updateCluster',
      tags: ['clusters'],
      summary: "Change a cluster's name, time zone, contact, sender, themes or booking policy defaults",
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
      return clusterProfile(updated, app.config.publicBaseUrl);
    },
  });
};
