// GET /v1/clusters/{cluster}/report: the impact report for a date range, as JSON or (Accept: text/csv) CSV.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ORGANISATION_TYPES } from '../../db/schema.js';
import { jsonOrCsv, wantsCsv } from '../../lib/csv.js';
import { Slug } from '../../lib/schema-types.js';
import { declareTag } from '../../plugins/openapi.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { ReportsService } from './reports.service.js';
import { reportCsv } from './reports.view.js';

const Day = (description: string) => Type.String({ pattern: '^\\d{4}-\\d\\d-\\d\\d$', description });
const Count = (description: string) => Type.Integer({ description });

const Report = Type.Object({
  cluster: Type.String({ description: 'Cluster slug' }),
  from: Type.String({ description: 'First day covered, in the cluster’s zone' }),
  to: Type.String({ description: 'Last day covered' }),
  timezone: Type.String({ description: 'The cluster’s zone' }),
  huddles: Count('Published huddles held in the range'),
  organisations: Type.Object({
    engaged: Count('Organisations that pitched, or whose people were checked in'),
    byType: Type.Object(Object.fromEntries(ORGANISATION_TYPES.map((type) => [type, Count(`Engaged ${type} organisations`)]))),
  }),
  firstTimePitchers: Count('Organisations whose first confirmed pitch at this cluster was in the range'),
  pitches: Type.Object({
    confirmed: Count('Confirmed pitches'),
    byTheme: Type.Array(Type.Object({ theme: Type.Union([Type.String(), Type.Null()]), count: Type.Integer() }), {
      description: 'Confirmed pitches by theme, most first',
    }),
  }),
  attendance: Type.Object({
    registered: Count('Places held by registered people'),
    attended: Count('Check-ins'),
    registeredAttended: Count('Registered and checked in'),
    noShows: Count('Registered and not checked in'),
    unregisteredAttended: Count('Checked in without a registration'),
    repeatPeople: Count('People checked in at more than one huddle'),
    people: Count('People checked in at least once'),
  }),
  perHuddle: Type.Array(
    Type.Object({
      id: Type.String(),
      title: Type.String(),
      start: Type.String({ description: 'Its day' }),
      registered: Type.Integer(),
      attended: Type.Integer(),
      pitches: Type.Integer(),
    }),
  ),
});

export const reportsRoutes: FastifyPluginAsyncTypebox<{ reports: ReportsService; clusters: ClustersService }> = async (
  app,
  { reports, clusters },
) => {
  declareTag(app, { name: 'reports', description: 'The impact report for funders' });
  app.get('/v1/clusters/:cluster/report', {
    config: { errors: ['CLUSTER_NOT_FOUND'], auth: ['organiser'] },
    schema: {
      operationId: 'getImpactReport',
      tags: ['reports'],
      summary: 'The impact report for a date range (days in the cluster’s zone), as JSON or (Accept: text/csv) CSV',
      description: 'Attendance counts only the check-ins recorded at the door (PUT /v1/huddles/{id}/attendance/{memberId}).',
      params: Type.Object({ cluster: Slug }),
      querystring: Type.Object(
        {
          from: Type.Optional(Day('First day (YYYY-MM-DD); with to unset: this quarter so far')),
          to: Type.Optional(Day('Last day, included')),
        },
        { additionalProperties: false },
      ),
      response: { 200: jsonOrCsv(Report, 'The report') },
    },
    handler: async (request, reply) => {
      const cluster = clusters.get(request.params.cluster);
      const quarter = reports.thisQuarter(cluster);
      const report = reports.impact(cluster, request.query.from ?? quarter.from, request.query.to ?? quarter.to);
      if (wantsCsv(request.headers.accept)) {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="impact-${report.cluster}-${report.from}-${report.to}.csv"`)
          .send(reportCsv(report));
      }
      return report;
    },
  });
};
