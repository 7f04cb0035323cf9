// The members API contract: members as organisers manage them, sign-in, and the private feed's addresses.
import { Type } from 'typebox';
import { ORGANISATION_TYPES } from '../../db/schema.js';
import { CursorQuery, Email, Id, Line, Page, Slug } from '../../lib/schema-types.js';

export const OrganisationType = Type.Union(
  ORGANISATION_TYPES.map((name) => Type.Literal(name)),
  { description: 'Kind of organisation: company, university, nhs, public-sector, investor, charity or other' },
);
export const MemberStatus = Type.Union([Type.Literal('active'), Type.Literal('suspended')], {
  description: 'active members can sign in and book; suspended ones cannot',
});

export const MemberParams = Type.Object({ cluster: Slug, memberId: Id });

export const MemberCreate = Type.Object(
  {
    email: Email,
    name: Line({ description: 'Full name', maxLength: 200 }),
    organisation: Line({ description: 'Organisation the member pitches for', maxLength: 200 }),
    organisationType: OrganisationType,
  },
  { additionalProperties: false, description: 'A new member; they are emailed a welcome with a sign-in link' },
);

export const MemberPatch = Type.Object(
  {
    name: Type.Optional(Line({ description: 'Full name', maxLength: 200 })),
    organisation: Type.Optional(Line({ description: 'Organisation', maxLength: 200 })),
    organisationType: Type.Optional(OrganisationType),
    status: Type.Optional(MemberStatus),
  },
  { additionalProperties: false, minProperties: 1, description: 'Fields to change; suspending also signs the member out everywhere' },
);

export const MemberListQuery = Type.Object(
  {
    status: Type.Optional(MemberStatus),
    organisationType: Type.Optional(OrganisationType),
    q: Type.Optional(Line({ description: 'Only members whose name, email or organisation contains this (any case)', maxLength: 200 })),
    ...CursorQuery,
  },
  { additionalProperties: false },
);

export const MemberView = Type.Object(
  {
    id: Type.String({ description: 'Member id' }),
    cluster: Type.String({ description: 'Cluster slug' }),
    email: Type.String({ description: 'Email address (lower-cased)' }),
    name: Type.String({ description: 'Full name' }),
    organisation: Type.String({ description: 'Organisation' }),
    organisationType: Type.String({ description: 'Kind of organisation' }),
    status: Type.String({ description: 'active or suspended' }),
    createdAt: Type.String({ format: 'date-time', description: 'Added (UTC)' }),
    updatedAt: Type.String({ format: 'date-time', description: 'Last change (UTC)' }),
  },
  { description: 'A member of a cluster' },
);

export const MemberPage = Page(MemberView);

export const CalendarLinks = Type.Object(
  {
    ics: Type.String({ description: 'https address of the feed' }),
    webcal: Type.String({ description: 'webcal:// address that calendar apps subscribe to' }),
    google: Type.String({ description: 'Google Calendar "add by URL" address' }),
  },
  { description: "The member's private calendar feed: keep it to yourself, it shows online links" },
);

export const EmailLinkBody = Type.Object(
  {
    email: Type.String({
      description: "The member's email address; case and surrounding spaces do not matter",
      minLength: 3,
      maxLength: 320,
    }),
  },
  { additionalProperties: false },
);

export const Accepted = Type.Object({
  status: Type.Literal('accepted'),
  detail: Type.String({ description: 'What happens next' }),
});

export const TokenBody = Type.Object(
  { code: Type.String({ description: 'The one-time code from the sign-in email', minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

export const IssuedToken = Type.Object({
  token: Type.String({ description: 'The member token; shown this once. Send it as Authorization: Bearer <token>' }),
  tokenType: Type.Literal('Bearer'),
  expiresAt: Type.String({ format: 'date-time', description: 'When the token stops working (UTC)' }),
  member: MemberView,
  calendar: CalendarLinks,
});

export const MemberImport = Type.Object(
  {
    csv: Type.String({
      description:
        'The CSV text: a header row naming email, name, organisation and organisation_type, then one member a row (at most 10,000)',
      maxLength: 2_000_000,
    }),
    dryRun: Type.Optional(
      Type.Boolean({ description: 'Check only: report what would happen, save nothing, email nobody', default: false }),
    ),
  },
  { additionalProperties: false },
);

export const MemberImportResult = Type.Object(
  {
    imported: Type.Integer({ description: 'Members added (or that would be, on a dry run); each is emailed a welcome' }),
    rejected: Type.Array(
      Type.Object({
        line: Type.Integer({ description: 'Line of the file (the header is line 1)' }),
        email: Type.Optional(Type.String({ description: 'The address on that line, if it had one' })),
        reason: Type.String({ description: 'Why the row was not imported' }),
      }),
      { description: 'Rows not imported, by line' },
    ),
    dryRun: Type.Boolean({ description: 'Whether this was a check only (nothing saved)' }),
  },
  { description: 'What an import did' },
);
