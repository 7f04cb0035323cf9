// The clusters API contract: the public profile and the organiser's editable settings.
import { Type } from 'typebox';
import { Email, HttpUrl, Line, Slug, TimeZone } from '../../lib/schema-types.js';

const Theme = Type.String({ description: 'Theme name', pattern: '^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$', maxLength: 40 });

const BookingPolicyFields = {
  pitchesPerOrganisationPerHuddle: Type.Integer({
    minimum: 1,
    maximum: 20,
    description: 'Active pitches one member organisation may hold in one huddle',
  }),
  rollingLimit: Type.Union(
    [
      Type.Object(
        {
          max: Type.Integer({ minimum: 1, maximum: 100, description: 'Pitches allowed in the window' }),
          days: Type.Integer({ minimum: 1, maximum: 730, description: 'Length of the rolling window in days' }),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ],
    { description: 'At most `max` pitches per organisation in any `days` days; null for no rolling limit' },
  ),
  cancellationCutoffHours: Type.Integer({
    minimum: 0,
    maximum: 720,
    description:
      'Members cannot cancel a pitch this many hours before the huddle (default 24); at most 24, when new huddles close booking, ' +
      'so that a pitch booked while booking is open can be cancelled by its member',
  }),
  waitlistOfferHours: Type.Integer({ minimum: 1, maximum: 168, description: 'How long a waitlist offer holds a freed slot' }),
  approvalRequired: Type.Boolean({ description: "Whether new pitches wait for an organiser's approval" }),
};

export const BookingPolicy = Type.Object(BookingPolicyFields, { description: "Defaults for new huddles' pitch booking" });

const WEBSITE_ORIGINS =
  "Origins of the cluster's own websites, e.g. https://cluster.example (empty by default): a sign-up form there may return to " +
  'them, their scripts may post the JSON sign-up (CORS), and they may frame the list of upcoming huddles';

const SENDER =
  "Who the cluster's emails come from (From, and the ORGANIZER of its calendar entries) and where replies go; null when it " +
  "sends as the instance (MAIL_FROM). Publish the address's domain's SPF and DKIM records before setting it";

const Sender = Type.Object(
  {
    name: Line({ description: 'The name people see, e.g. "North West HealthTec"', maxLength: 100 }),
    address: Type.String({ description: 'The From address, on a domain the cluster controls', format: 'email', maxLength: 254 }),
    replyTo: Type.Optional(
      Type.Union([Email, Type.Null()], {
        description:
          "Where replies go; when null, replies go to the From address (or, on pitch and invitation emails, to the cluster's contact)",
      }),
    ),
  },
  { additionalProperties: false },
);

export const ClusterParams = Type.Object({ cluster: Slug });

export const ClusterProfile = Type.Object(
  {
    slug: Slug,
    name: Type.String({ description: 'Display name' }),
    description: Type.String({ description: 'What the cluster is, for its page (plain text; may be empty)' }),
    timezone: Type.String({ description: 'IANA time zone the cluster meets in' }),
    contactEmail: Type.Union([Type.String(), Type.Null()], { description: 'Public contact address' }),
    websiteUrl: Type.Union([Type.String(), Type.Null()], { description: 'Public website' }),
    sender: Type.Union(
      [
        Type.Object({
          name: Type.String({ description: 'The name people see' }),
          address: Type.String({ description: 'The From address' }),
          replyTo: Type.Union([Type.String(), Type.Null()], { description: 'Where replies go' }),
        }),
        Type.Null(),
      ],
      { description: SENDER },
    ),
    dkim: Type.Union(
      [
        Type.Object({
          domain: Type.String({ description: 'The signing domain (d=)' }),
          selector: Type.String({ description: 'The selector (s=): the record is at <selector>._domainkey.<domain>' }),
        }),
        Type.Null(),
      ],
      { description: "The cluster's DKIM key (made by `convene cluster dkim`), or null when its mail is not signed with its own" },
    ),
    websiteOrigins: Type.Array(Type.String(), { description: WEBSITE_ORIGINS }),
    themes: Type.Array(Type.String(), { description: 'Theme vocabulary for huddles' }),
    bookingPolicy: BookingPolicy,
    calendar: Type.Object(
      {
        ics: Type.String({ description: 'https address of the public calendar feed' }),
        webcal: Type.String({ description: 'webcal:// address that calendar apps subscribe to' }),
        google: Type.String({ description: 'Google Calendar "add by URL" address' }),
      },
      { description: "The cluster's public calendar of huddles" },
    ),
    createdAt: Type.String({ format: 'date-time', description: 'When the cluster was created (UTC)' }),
    updatedAt: Type.String({ format: 'date-time', description: 'Last change (UTC)' }),
  },
  { description: "A cluster's public profile" },
);

export const ClusterPatch = Type.Object(
  {
    name: Type.Optional(Line({ description: 'Display name', maxLength: 200 })),
    description: Type.Optional(
      Type.String({ maxLength: 2000, description: 'What the cluster is, for its page (plain text; empty to clear)' }),
    ),
    timezone: Type.Optional(TimeZone),
    contactEmail: Type.Optional(Type.Union([Email, Type.Null()], { description: 'Public contact address; null to clear' })),
    websiteUrl: Type.Optional(Type.Union([HttpUrl, Type.Null()], { description: 'Public website; null to clear' })),
    sender: Type.Optional(Type.Union([Sender, Type.Null()], { description: `${SENDER}; null to clear` })),
    websiteOrigins: Type.Optional(
      Type.Array(
        Type.String({ pattern: '^https?://[a-z0-9.-]+(:[0-9]{1,5})?$', maxLength: 200, description: 'An origin: scheme, host and port' }),
        { maxItems: 10, uniqueItems: true, description: WEBSITE_ORIGINS },
      ),
    ),
    themes: Type.Optional(Type.Array(Theme, { minItems: 1, maxItems: 30, description: 'Theme vocabulary for huddles' })),
    bookingPolicy: Type.Optional(
      Type.Object(
        {
          pitchesPerOrganisationPerHuddle: Type.Optional(BookingPolicyFields.pitchesPerOrganisationPerHuddle),
          rollingLimit: Type.Optional(BookingPolicyFields.rollingLimit),
          cancellationCutoffHours: Type.Optional(BookingPolicyFields.cancellationCutoffHours),
          waitlistOfferHours: Type.Optional(BookingPolicyFields.waitlistOfferHours),
          approvalRequired: Type.Optional(BookingPolicyFields.approvalRequired),
        },
        { additionalProperties: false, description: 'Fields to change in the booking policy defaults' },
      ),
    ),
  },
  { additionalProperties: false, minProperties: 1, description: 'Fields to change; others stay as they are' },
);
