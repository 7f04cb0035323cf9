// The audit log's API contract.
import { Type } from 'typebox';
import { CursorQuery, Line, Page, Slug } from '../../lib/schema-types.js';

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
export const AuditQuery = Type.Object(
  {
    ...CursorQuery,
    actor: Type.Optional(Line({ description: "Only events whose actor's name contains this (any case)", maxLength: 200 })),
    action: Type.Optional(
      Type.String({
        description: 'Only this action (booking.approved), or without a dot every action on that noun (booking)',
        pattern: '^[a-z][a-z_-]*(\\.[a-z_-]+)?$',
        maxLength: 60,
      }),
    ),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Only events at or after this instant' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Only events before this instant' })),
  },
  { additionalProperties: false },
);
export const AuditPage = Page(AuditEvent);
