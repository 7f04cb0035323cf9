// The audit log's API contract.
import { Type } from 'typebox';
import { CursorQuery, Page, Slug } from '../../lib/schema-types.js';

export const AuditEvent = Type.Object(
  {
    id: Type.String({ description: 'Event id (time-ordered)' }),
    at: Type.String({ format: 'date-time', description: 'When it happened (UTC)' }),
    actor: Type.Object({
      type: Type.Union([Type.Literal('organiser'), Type.Literal('cli'), Type.Literal('member'), Type.Literal('system')], {
        description: 'Who acted: an organiser key, the command line, a member or the system',
      }),
      id: Type.Union([Type.String(), Type.Null()], { description: 'Organiser or member id, when known' }),
      label: Type.Union([Type.String(), Type.Null()], { description: 'Readable name of the actor' }),
    }),
    action: Type.String({ description: 'What was done, e.g. cluster.updated' }),
    target: Type.Object({
      type: Type.String({ description: 'Kind of record changed' }),
      id: Type.Union([Type.String(), Type.Null()], { description: 'Id of the record changed' }),
    }),
    before: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], { description: 'Changed fields before' }),
    after: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], { description: 'Changed fields after' }),
    requestId: Type.Union([Type.String(), Type.Null()], { description: 'Request that made the change' }),
  },
  { description: 'One recorded change' },
);

export const AuditParams = Type.Object({ cluster: Slug });
export const AuditQuery = Type.Object(CursorQuery, { additionalProperties: false });
export const AuditPage = Page(AuditEvent);
