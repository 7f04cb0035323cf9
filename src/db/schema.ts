// Every table. Instants are UTC milliseconds; IANA zones are stored beside them where local time matters.
import { sql } from 'drizzle-orm';
import { sqliteTable, text, integer, index, uniqueIndex } from 'drizzle-orm/sqlite-core';

const createdAt = () => integer('created_at', { mode: 'timestamp_ms' }).notNull();

export interface BookingPolicy {
  /** Active pitches one member organisation may hold in one huddle. */
  pitchesPerOrganisationPerHuddle: number;
  /** Optional rolling limit: at most `max` pitches in `days` days (null: none). */
  rollingLimit: { max: number; days: number } | null;
  /** Hours before a huddle starts after which members can no longer cancel. */
  cancellationCutoffHours: number;
  /** Hours a waitlist offer holds a freed slot. */
  waitlistOfferHours: number;
  /** Whether new pitches need an organiser's approval. */
  approvalRequired: boolean;
}

export const clusters = sqliteTable('clusters', {
  id: text('id').primaryKey(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  /** What the cluster is, in a few sentences, for its page (plain text). */
  description: text('description').notNull().default(''),
  timezone: text('timezone').notNull(),
  contactEmail: text('contact_email'),
  /**
   * Who the cluster's emails come from (From: "senderName" <senderAddress>, also the ORGANIZER of its
   * calendar data) and where replies go; null: the instance's MAIL_FROM, and no Reply-To of its own.
   */
  senderName: text('sender_name'),
  senderAddress: text('sender_address'),
  replyTo: text('reply_to'),
  /** DKIM: the signing domain and selector, and the private key sealed with SECRET_KEY (lib/secret-box.ts). */
  dkimDomain: text('dkim_domain'),
  dkimSelector: text('dkim_selector'),
  dkimKey: text('dkim_key'),
  websiteUrl: text('website_url'),
  /**
   * Origins of the cluster's own websites (https://cluster.example): a sign-up form there may return
   * to them, their scripts may post the JSON sign-up (CORS), and they may frame the huddle list.
   */
  websiteOrigins: text('website_origins', { mode: 'json' }).$type<string[]>().notNull().default([]),
  themes: text('themes', { mode: 'json' }).$type<string[]>().notNull(),
  bookingPolicy: text('booking_policy', { mode: 'json' }).$type<BookingPolicy>().notNull(),
  /**
   * Bumped in the same transaction as any change to the cluster or its huddles: the feed cache's key
   * (two changes can share a millisecond).
   */
  huddlesVersion: integer('huddles_version').notNull().default(0),
  createdAt: createdAt(),
  updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
});

export const ORGANISER_ROLES = ['organiser', 'viewer'] as const;
export type OrganiserRole = (typeof ORGANISER_ROLES)[number];

export const organisers = sqliteTable(
  'organisers',
  {
    id: text('id').primaryKey(),
    clusterId: text('cluster_id')
      .notNull()
      .references(() => clusters.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    name: text('name').notNull(),
    /** 'organiser' runs the cluster; 'viewer' (a board member, a funder's staff) sees everything and changes nothing. */
    role: text('role').$type<OrganiserRole>().notNull().default('organiser'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('organisers_cluster_email').on(t.clusterId, t.email)],
);

export const apiKeys = sqliteTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    organiserId: text('organiser_id')
      .notNull()
      .references(() => organisers.id, { onDelete: 'cascade' }),
    clusterId: text('cluster_id')
      .notNull()
      .references(() => clusters.id, { onDelete: 'cascade' }),
    /** The visible start of the key (e.g. cnv_org_AbC123), to tell keys apart in lists and logs. */
    prefix: text('prefix').notNull(),
    /** SHA-256 of the whole key, hex. The key itself is never stored. */
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: createdAt(),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }),
    lastUsedAt: integer('last_used_at', { mode: 'timestamp_ms' }),
    revokedAt: integer('revoked_at', { mode: 'timestamp_ms' }),
  },
  (t) => [index('api_keys_organiser').on(t.organiserId)],
);

/**
 * A one-time code emailed to a person who organises (or views) one or more clusters, to sign in to the
 * console. It belongs to the address, not to one cluster: one sign-in opens every cluster of that person.
 */
export const organiserSignInCodes = sqliteTable(
  'organiser_sign_in_codes',
  {
    id: text('id').primaryKey(),
    email: text('email').notNull(),
    codeHash: text('code_hash').notNull().unique(),
    createdAt: createdAt(),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
    usedAt: integer('used_at', { mode: 'timestamp_ms' }),
  },
  (t) => [index('organiser_sign_in_codes_email').on(t.email)],
);

/**
 * A console session in a browser (an HttpOnly cookie holds the token): the person behind an address,
 * who acts in each cluster with the role their organiser row there gives them.
 */
export const organiserSessions = sqliteTable(
  'organiser_sessions',
  {
    id: text('id').primaryKey(),
    email: text('email').notNull(),
    /** SHA-256 of the session token, hex; the token itself is never stored. */
    tokenHash: text('token_hash').notNull().unique(),
    /** The browser it was started from, so the person can tell their sessions apart. */
    userAgent: text('user_agent'),
    createdAt: createdAt(),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
    lastUsedAt: integer('last_used_at', { mode: 'timestamp_ms' }),
    revokedAt: integer('revoked_at', { mode: 'timestamp_ms' }),
  },
  (t) => [index('organiser_sessions_email').on(t.email)],
);

export const auditEvents = sqliteTable(
  'audit_events',
  {
    id: text('id').primaryKey(),
    clusterId: text('cluster_id').references(() => clusters.id, { onDelete: 'cascade' }),
    /** organiser | cli | member | system */
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id'),
    actorLabel: text('actor_label'),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id'),
    before: text('before', { mode: 'json' }).$type<Record<string, unknown> | null>(),
    after: text('after', { mode: 'json' }).$type<Record<string, unknown> | null>(),
    requestId: text('request_id'),
    at: integer('at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('audit_events_cluster').on(t.clusterId, t.id)],
);

/** withheld: final, never sent; its sender's module said no just before it would have left (e.g. the person unsubscribed). */
export type OutboxStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'withheld';

export interface OutboxAttachment {
  filename: string;
  contentType: string;
  content: string;
}

export const outbox = sqliteTable(
  'outbox',
  {
    id: text('id').primaryKey(),
    /** Fixed Message-ID: a resend after a crash carries the same id, so it is recognisable. */
    messageId: text('message_id').notNull().unique(),
    clusterId: text('cluster_id').references(() => clusters.id, { onDelete: 'set null' }),
    /** What caused the message (e.g. organiser.welcome, huddle.invitation): for logs and metrics. */
    kind: text('kind').notNull(),
    toAddress: text('to_address').notNull(),
    fromAddress: text('from_address').notNull(),
    replyTo: text('reply_to'),
    subject: text('subject').notNull(),
    /** iCalendar part: METHOD must match the calendar's METHOD line (the calendar itself is in outbox_bodies). */
    calendarMethod: text('calendar_method'),
    status: text('status').$type<OutboxStatus>().notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at', { mode: 'timestamp_ms' }).notNull(),
    leaseUntil: integer('lease_until', { mode: 'timestamp_ms' }),
    /** The process that last claimed the row (host:pid): a run after a crash releases only a dead process's claims. */
    claimedBy: text('claimed_by'),
    lastError: text('last_error'),
    smtpResponse: text('smtp_response'),
    createdAt: createdAt(),
    sentAt: integer('sent_at', { mode: 'timestamp_ms' }),
  },
  // Partial indexes only: sent rows (nearly all of them, in time) are in neither, so the worker's
  // claim and the backlog counts stay fast however many messages have gone out.
  (t) => [
    index('outbox_due')
      .on(t.nextAttemptAt, t.id)
      .where(sql`status IN ('queued', 'sending')`),
    index('outbox_failed')
      .on(t.createdAt)
      .where(sql`status = 'failed'`),
  ],
);

/**
 * What a message says: one row per outbox row, written with it and deleted with it. Kept apart from
 * the outbox row's state because SQLite rewrites a whole row on every UPDATE: the worker's claim and
 * its record of the send then rewrite a few hundred bytes instead of the whole message (a newsletter's
 * 20 KB, in overflow pages), inside the write lock the server waits for (bench/FINDINGS.md).
 */
export const outboxBodies = sqliteTable('outbox_bodies', {
  outboxId: text('outbox_id')
    .primaryKey()
    .references(() => outbox.id, { onDelete: 'cascade' }),
  text: text('text').notNull(),
  html: text('html').notNull(),
  headers: text('headers', { mode: 'json' }).$type<Record<string, string>>().notNull(),
  calendar: text('calendar'),
  attachments: text('attachments', { mode: 'json' }).$type<OutboxAttachment[]>(),
});

export type HuddleStatus = 'draft' | 'published' | 'cancelled';

export const huddleSeries = sqliteTable('huddle_series', {
  id: text('id').primaryKey(),
  clusterId: text('cluster_id')
    .notNull()
    .references(() => clusters.id, { onDelete: 'cascade' }),
  rrule: text('rrule').notNull(),
  timezone: text('timezone').notNull(),
  createdAt: createdAt(),
});

export const huddles = sqliteTable(
  'huddles',
  {
    id: text('id').primaryKey(),
    clusterId: text('cluster_id')
      .notNull()
      .references(() => clusters.id, { onDelete: 'cascade' }),
    seriesId: text('series_id').references(() => huddleSeries.id, { onDelete: 'set null' }),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    startsAt: integer('starts_at', { mode: 'timestamp_ms' }).notNull(),
    endsAt: integer('ends_at', { mode: 'timestamp_ms' }).notNull(),
    timezone: text('timezone').notNull(),
    venueName: text('venue_name'),
    venueAddress: text('venue_address'),
    /** Private: shown to organisers, attendees and pitchers, never in public views or feeds. */
    onlineUrl: text('online_url'),
    capacity: integer('capacity'),
    themes: text('themes', { mode: 'json' }).$type<string[]>().notNull(),
    status: text('status').$type<HuddleStatus>().notNull(),
    cancelReason: text('cancel_reason'),
    cancelledAt: integer('cancelled_at', { mode: 'timestamp_ms' }),
    /** iCalendar SEQUENCE: grows with every change of time, place or status. */
    sequence: integer('sequence').notNull().default(0),
    /**
     * Grows with every saved change: what caches of the huddle's views and calendar event are keyed on
     * (two edits can share a millisecond).
     */
    version: integer('version').notNull().default(1),
    slotCount: integer('slot_count').notNull(),
    slotMinutes: integer('slot_minutes').notNull(),
    changeoverMinutes: integer('changeover_minutes').notNull(),
    pitchOffsetMinutes: integer('pitch_offset_minutes').notNull(),
    /** Booking opens this many days before the start; null: as soon as the huddle is published. */
    bookingOpensDaysBefore: integer('booking_opens_days_before'),
    bookingClosesHoursBefore: integer('booking_closes_hours_before').notNull(),
    cancellationCutoffHours: integer('cancellation_cutoff_hours').notNull(),
    approvalRequired: integer('approval_required', { mode: 'boolean' }).notNull(),
    createdAt: createdAt(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('huddles_cluster_start').on(t.clusterId, t.startsAt, t.id), index('huddles_series_start').on(t.seriesId, t.startsAt)],
);

export const slots = sqliteTable(
  'slots',
  {
    id: text('id').primaryKey(),
    huddleId: text('huddle_id')
      .notNull()
      .references(() => huddles.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    startsAt: integer('starts_at', { mode: 'timestamp_ms' }).notNull(),
    endsAt: integer('ends_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [uniqueIndex('slots_huddle_position').on(t.huddleId, t.position)],
);

export const invitations = sqliteTable(
  'invitations',
  {
    id: text('id').primaryKey(),
    huddleId: text('huddle_id')
      .notNull()
      .references(() => huddles.id, { onDelete: 'cascade' }),
    /** Normalised address; one invitation per address per huddle. */
    email: text('email').notNull(),
    name: text('name'),
    /** Where the address came from: addresses, members or subscribers. */
    source: text('source').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('invitations_huddle_email').on(t.huddleId, t.email)],
);

export const ORGANISATION_TYPES = ['company', 'university', 'nhs', 'public-sector', 'investor', 'charity', 'other'] as const;
export type OrganisationType = (typeof ORGANISATION_TYPES)[number];
export type MemberStatus = 'active' | 'suspended';

export const members = sqliteTable(
  'members',
  {
    id: text('id').primaryKey(),
    clusterId: text('cluster_id')
      .notNull()
      .references(() => clusters.id, { onDelete: 'cascade' }),
    /** Normalised address; one membership per address per cluster. */
    email: text('email').notNull(),
    name: text('name').notNull(),
    organisation: text('organisation').notNull(),
    organisationType: text('organisation_type').$type<OrganisationType>().notNull(),
    status: text('status').$type<MemberStatus>().notNull(),
    /** Bumped to rotate the private feed address; the feed token is derived from it and the secret. */
    feedVersion: integer('feed_version').notNull().default(1),
    /** SHA-256 of the current feed token, to find the member from a feed address. */
    feedTokenHash: text('feed_token_hash').notNull().unique(),
    createdAt: createdAt(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [
    uniqueIndex('members_cluster_email').on(t.clusterId, t.email),
    index('members_email').on(t.email),
    index('members_cluster_status').on(t.clusterId, t.status, t.id),
  ],
);

/** One-time sign-in codes, emailed; valid for 15 minutes and used once. Only the hash is kept. */
export const signInCodes = sqliteTable(
  'sign_in_codes',
  {
    id: text('id').primaryKey(),
    memberId: text('member_id')
      .notNull()
      .references(() => members.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull().unique(),
    createdAt: createdAt(),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
    usedAt: integer('used_at', { mode: 'timestamp_ms' }),
  },
  (t) => [index('sign_in_codes_member').on(t.memberId)],
);

export type MemberTokenKind = 'api' | 'browser';

export const memberTokens = sqliteTable(
  'member_tokens',
  {
    id: text('id').primaryKey(),
    memberId: text('member_id')
      .notNull()
      .references(() => members.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    /** api: a bearer token for scripts; browser: a signed-in session held in an HttpOnly cookie. */
    kind: text('kind').$type<MemberTokenKind>().notNull().default('api'),
    /** The browser a session was started from, so the member can tell their sessions apart. */
    userAgent: text('user_agent'),
    createdAt: createdAt(),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
    lastUsedAt: integer('last_used_at', { mode: 'timestamp_ms' }),
    revokedAt: integer('revoked_at', { mode: 'timestamp_ms' }),
  },
  (t) => [index('member_tokens_member').on(t.memberId)],
);

export type BookingStatus = 'pending' | 'confirmed' | 'rejected' | 'cancelled';
/** A booking holds its slot while it is pending (waiting for approval) or confirmed: "active". The one place this is said. */
export const ACTIVE_BOOKING_STATUSES = ['pending', 'confirmed'] as const satisfies readonly BookingStatus[];
const ACTIVE_LIST = ACTIVE_BOOKING_STATUSES.map((status) => `'${status}'`).join(', ');
/**
 * The same as a query condition, written out rather than bound: SQLite uses the partial index
 * bookings_active_slot only for a query whose condition is the index's own, word for word.
 */
export const activeBooking = sql.raw(`"bookings"."status" IN (${ACTIVE_LIST})`);

/** A member organisation's pitch in one slot. A slot holds at most one pending or confirmed booking. */
export const bookings = sqliteTable(
  'bookings',
  {
    id: text('id').primaryKey(),
    huddleId: text('huddle_id')
      .notNull()
      .references(() => huddles.id, { onDelete: 'cascade' }),
    slotId: text('slot_id')
      .notNull()
      .references(() => slots.id, { onDelete: 'cascade' }),
    memberId: text('member_id')
      .notNull()
      .references(() => members.id, { onDelete: 'cascade' }),
    /** The member's organisation, lower-cased and trimmed when booked: limits count per organisation. */
    organisationKey: text('organisation_key').notNull(),
    title: text('title').notNull(),
    summary: text('summary').notNull().default(''),
    /** One of the huddle's themes the pitch is about (the pitch digest groups by it), or null. */
    theme: text('theme'),
    /** The pitcher agreed, when booking, that the follow-up newsletter may give their email address. */
    shareContact: integer('share_contact', { mode: 'boolean' }).notNull().default(false),
    status: text('status').$type<BookingStatus>().notNull(),
    /** iCalendar SEQUENCE of the pitch event (UID pitch-<id>@host): grows with every change sent. */
    sequence: integer('sequence').notNull().default(0),
    /** member | organiser | system (the huddle was cancelled) */
    cancelledBy: text('cancelled_by'),
    createdAt: createdAt(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
    decidedAt: integer('decided_at', { mode: 'timestamp_ms' }),
    cancelledAt: integer('cancelled_at', { mode: 'timestamp_ms' }),
  },
  (t) => [
    uniqueIndex('bookings_active_slot')
      .on(t.slotId)
      .where(sql.raw(`status IN (${ACTIVE_LIST})`)),
    index('bookings_huddle').on(t.huddleId, t.status),
    index('bookings_member').on(t.memberId, t.status),
    index('bookings_organisation').on(t.organisationKey, t.status),
    // Every booking counts its organisation's active pitches at the huddle: found here at once, not
    // by reading the organisation's whole history (bookings_organisation) to match the huddle.
    index('bookings_huddle_organisation')
      .on(t.huddleId, t.organisationKey)
      .where(sql.raw(`status IN (${ACTIVE_LIST})`)),
  ],
);

/** Idempotency-Key records: the first response to a key is replayed for 24 hours, per caller. */
export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    /** Who sent it (principal kind and id) and the key they chose. */
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    /** Method, route and a hash of the body: the same key with another request is refused. */
    fingerprint: text('fingerprint').notNull(),
    state: text('state').$type<'in-flight' | 'done'>().notNull(),
    statusCode: integer('status_code'),
    headers: text('headers', { mode: 'json' }).$type<Record<string, string>>(),
    body: text('body'),
    createdAt: createdAt(),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [uniqueIndex('idempotency_keys_scope_key').on(t.scope, t.key), index('idempotency_keys_expires').on(t.expiresAt)],
);

export type WaitlistStatus = 'waiting' | 'offered' | 'booked' | 'left' | 'passed';

/** A member organisation waiting for a pitch slot at one huddle: one place per organisation. */
export const waitlistEntries = sqliteTable(
  'waitlist_entries',
  {
    id: text('id').primaryKey(),
    huddleId: text('huddle_id')
      .notNull()
      .references(() => huddles.id, { onDelete: 'cascade' }),
    memberId: text('member_id')
      .notNull()
      .references(() => members.id, { onDelete: 'cascade' }),
    organisationKey: text('organisation_key').notNull(),
    title: text('title').notNull(),
    summary: text('summary').notNull().default(''),
    /** waiting in line, offered a slot, booked (accepted), left (by choice), passed (declined or let an offer expire) */
    status: text('status').$type<WaitlistStatus>().notNull(),
    createdAt: createdAt(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [
    uniqueIndex('waitlist_active_organisation')
      .on(t.huddleId, t.organisationKey)
      .where(sql`status IN ('waiting', 'offered')`),
    index('waitlist_line').on(t.huddleId, t.status, t.createdAt),
  ],
);

export type OfferStatus = 'open' | 'accepted' | 'declined' | 'expired' | 'withdrawn';

/** A freed slot offered to the first in line; it holds the slot until it is accepted, declined or expires. */
export const waitlistOffers = sqliteTable(
  'waitlist_offers',
  {
    id: text('id').primaryKey(),
    entryId: text('entry_id')
      .notNull()
      .references(() => waitlistEntries.id, { onDelete: 'cascade' }),
    huddleId: text('huddle_id')
      .notNull()
      .references(() => huddles.id, { onDelete: 'cascade' }),
    slotId: text('slot_id')
      .notNull()
      .references(() => slots.id, { onDelete: 'cascade' }),
    status: text('status').$type<OfferStatus>().notNull(),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
    createdAt: createdAt(),
    decidedAt: integer('decided_at', { mode: 'timestamp_ms' }),
  },
  (t) => [
    uniqueIndex('waitlist_offers_open_slot')
      .on(t.slotId)
      .where(sql`status = 'open'`),
    index('waitlist_offers_due')
      .on(t.expiresAt)
      .where(sql`status = 'open'`),
  ],
);

export type RegistrationStatus = 'registered' | 'waitlisted' | 'cancelled';

/** A member's place in a huddle's audience: registered, or waitlisted while the huddle is at capacity. */
export const registrations = sqliteTable(
  'registrations',
  {
    id: text('id').primaryKey(),
    huddleId: text('huddle_id')
      .notNull()
      .references(() => huddles.id, { onDelete: 'cascade' }),
    memberId: text('member_id')
      .notNull()
      .references(() => members.id, { onDelete: 'cascade' }),
    status: text('status').$type<RegistrationStatus>().notNull(),
    createdAt: createdAt(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
    cancelledAt: integer('cancelled_at', { mode: 'timestamp_ms' }),
  },
  (t) => [
    uniqueIndex('registrations_active_member')
      .on(t.huddleId, t.memberId)
      .where(sql`status IN ('registered', 'waitlisted')`),
    index('registrations_huddle').on(t.huddleId, t.status, t.createdAt),
    index('registrations_member').on(t.memberId, t.status),
  ],
);

/** Reminders sent: one per huddle and address, so a restart never sends one twice. */
export const reminders = sqliteTable(
  'reminders',
  {
    huddleId: text('huddle_id')
      .notNull()
      .references(() => huddles.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    sentAt: integer('sent_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [uniqueIndex('reminders_huddle_email').on(t.huddleId, t.email)],
);

export const TOPICS = ['newsletter', 'huddle-invites', 'pitch-digest'] as const;
export type Topic = (typeof TOPICS)[number];
export type SubscriberStatus = 'pending' | 'confirmed' | 'unsubscribed';

/**
 * Who came to a huddle, as an organiser recorded it at the door (the impact report counts only these):
 * a registered attendee, a pitcher, or a member who walked in. One row a person a huddle.
 */
export const attendance = sqliteTable(
  'attendance',
  {
    id: text('id').primaryKey(),
    huddleId: text('huddle_id')
      .notNull()
      .references(() => huddles.id, { onDelete: 'cascade' }),
    memberId: text('member_id')
      .notNull()
      .references(() => members.id, { onDelete: 'cascade' }),
    checkedInAt: integer('checked_in_at', { mode: 'timestamp_ms' }).notNull(),
    /** Who recorded it (an organiser's name), for the audit of the door list. */
    checkedInBy: text('checked_in_by'),
  },
  (t) => [uniqueIndex('attendance_huddle_member').on(t.huddleId, t.memberId), index('attendance_member').on(t.memberId)],
);

/** Newsletter subscribers of a cluster. Nobody is mailed anything but the confirmation until confirmed. */
export const subscribers = sqliteTable(
  'subscribers',
  {
    id: text('id').primaryKey(),
    clusterId: text('cluster_id')
      .notNull()
      .references(() => clusters.id, { onDelete: 'cascade' }),
    /** Lower-cased and trimmed; dots and plus parts are kept. */
    email: text('email').notNull(),
    name: text('name'),
    status: text('status').$type<SubscriberStatus>().notNull(),
    topics: text('topics', { mode: 'json' }).$type<Topic[]>().notNull(),
    themes: text('themes', { mode: 'json' }).$type<string[]>().notNull(),
    createdAt: createdAt(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
    confirmedAt: integer('confirmed_at', { mode: 'timestamp_ms' }),
    unsubscribedAt: integer('unsubscribed_at', { mode: 'timestamp_ms' }),
    /** When the last confirmation (or "already subscribed") email went out: repeat sign-ups are limited by it. */
    lastNoticeAt: integer('last_notice_at', { mode: 'timestamp_ms' }),
  },
  (t) => [
    uniqueIndex('subscribers_cluster_email').on(t.clusterId, t.email),
    index('subscribers_cluster_status').on(t.clusterId, t.status, t.id),
  ],
);

/**
 * Addresses never to be mailed again: erased (kept only as a hash, in that cluster), or refused by
 * their mail server or reported as spam (with the address, in every cluster: cluster_id NULL).
 */
export const suppressions = sqliteTable(
  'suppressions',
  {
    /** The cluster it applies to; NULL: every cluster of the instance (bounces and complaints). */
    clusterId: text('cluster_id').references(() => clusters.id, { onDelete: 'cascade' }),
    /** SHA-256 of the normalised address. */
    emailHash: text('email_hash').notNull(),
    /** The address, so organisers can see whom it is about; NULL once erased. */
    email: text('email'),
    /** erased | bounced | soft-bounced | complained */
    reason: text('reason').$type<SuppressionReason>().notNull(),
    /** What the mail server or the report said (status code and diagnostic), for organisers. */
    detail: text('detail'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('suppressions_cluster_hash').on(t.clusterId, t.emailHash),
    uniqueIndex('suppressions_everywhere_hash')
      .on(t.emailHash)
      .where(sql`cluster_id IS NULL`),
  ],
);

export type SuppressionReason = 'erased' | 'bounced' | 'soft-bounced' | 'complained';

/** Reports that came back after a send (bounces, complaints, mailto unsubscribes): the soft-bounce count and the history. */
export const bounces = sqliteTable(
  'bounces',
  {
    id: text('id').primaryKey(),
    /** hard | soft | blocked (refused by policy: recorded, never suppresses) | complaint | unsubscribe */
    kind: text('kind').$type<BounceKind>().notNull(),
    /** smtp (the inbound listener) | ingest (convene mail ingest) | webhook:<provider> */
    via: text('via').notNull(),
    /** The message it is about, when it could be matched. */
    outboxId: text('outbox_id').references(() => outbox.id, { onDelete: 'set null' }),
    clusterId: text('cluster_id').references(() => clusters.id, { onDelete: 'set null' }),
    emailHash: text('email_hash').notNull(),
    /** Status code and diagnostic, or the feedback type, bounded. */
    detail: text('detail'),
    at: integer('at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [
    index('bounces_hash').on(t.emailHash, t.kind, t.at),
    // One report of each kind per message: a report delivered twice counts once.
    uniqueIndex('bounces_outbox_kind').on(t.outboxId, t.kind),
  ],
);

export type BounceKind = 'hard' | 'soft' | 'blocked' | 'complaint' | 'unsubscribe';

/** The consent ledger: append-only; erasure strips the person out but keeps the events. */
export const consentEvents = sqliteTable(
  'consent_events',
  {
    id: text('id').primaryKey(),
    clusterId: text('cluster_id')
      .notNull()
      .references(() => clusters.id, { onDelete: 'cascade' }),
    subscriberId: text('subscriber_id').references(() => subscribers.id, { onDelete: 'set null' }),
    emailHash: text('email_hash').notNull(),
    /** requested | confirmed | preferences-changed | unsubscribed | erased */
    kind: text('kind').notNull(),
    /** form | api | import | organiser | email-link | one-click */
    source: text('source').notNull(),
    /** Version of the consent wording the person was shown. */
    wordingVersion: text('wording_version').notNull(),
    topics: text('topics', { mode: 'json' }).$type<string[]>(),
    ip: text('ip'),
    userAgent: text('user_agent'),
    at: integer('at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('consent_events_subscriber').on(t.subscriberId, t.at), index('consent_events_hash').on(t.clusterId, t.emailHash)],
);

export type CampaignStatus = 'draft' | 'sending' | 'paused' | 'sent';

/** A newsletter: the Markdown body is rendered once per send; only per-recipient parts vary. */
export const campaigns = sqliteTable(
  'campaigns',
  {
    id: text('id').primaryKey(),
    clusterId: text('cluster_id')
      .notNull()
      .references(() => clusters.id, { onDelete: 'cascade' }),
    subject: text('subject').notNull(),
    bodyMarkdown: text('body_markdown').notNull(),
    topic: text('topic').$type<Topic>().notNull(),
    theme: text('theme'),
    status: text('status').$type<CampaignStatus>().notNull(),
    /** Messages per second the sender aims for. */
    rate: integer('rate').notNull(),
    createdAt: createdAt(),
    startedAt: integer('started_at', { mode: 'timestamp_ms' }),
    finishedAt: integer('finished_at', { mode: 'timestamp_ms' }),
    /** The process sending it (host:pid) and when it last said it still was: a dead or silent sender means "interrupted". */
    sender: text('sender'),
    heartbeatAt: integer('heartbeat_at', { mode: 'timestamp_ms' }),
    /** When the server's scheduler starts it (a draft), or started it; null: sent from the command line. */
    scheduledAt: integer('scheduled_at', { mode: 'timestamp_ms' }),
  },
  (t) => [
    index('campaigns_cluster').on(t.clusterId, t.createdAt),
    index('campaigns_scheduled')
      .on(t.scheduledAt)
      .where(sql`scheduled_at IS NOT NULL AND status IN ('draft', 'sending')`),
  ],
);

/**
 * The processes that send scheduled campaigns now (a server with its scheduler on), each saying every
 * few seconds that it still does: `newsletter send` hands its campaign to one of them rather than
 * sending it from a second process, whose writes would make the server's requests wait for the lock.
 */
export const campaignSenders = sqliteTable('campaign_senders', {
  /** host:pid */
  process: text('process').primaryKey(),
  startedAt: integer('started_at', { mode: 'timestamp_ms' }).notNull(),
  heartbeatAt: integer('heartbeat_at', { mode: 'timestamp_ms' }).notNull(),
});

export type DeliveryStatus = 'pending' | 'enqueued' | 'skipped';
export type DeliveryReturn = 'bounced' | 'soft-bounced' | 'complained';

/** The recipients of a campaign, snapshotted when it starts: one row per subscriber, ever. */
export const deliveries = sqliteTable(
  'deliveries',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    subscriberId: text('subscriber_id').references(() => subscribers.id, { onDelete: 'set null' }),
    email: text('email').notNull(),
    /** pending (not yet handed to the outbox), enqueued (the outbox row says sent or failed), skipped (left or suppressed by send time) */
    status: text('status').$type<DeliveryStatus>().notNull(),
    outboxId: text('outbox_id').references(() => outbox.id, { onDelete: 'set null' }),
    skipReason: text('skip_reason'),
    /** What came back after it was sent: bounced (for good), soft-bounced, complained. */
    returned: text('returned').$type<DeliveryReturn>(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('deliveries_campaign_subscriber').on(t.campaignId, t.subscriberId),
    index('deliveries_campaign_status').on(t.campaignId, t.status, t.id),
    // The mail worker asks, for each newsletter message just before it leaves, whose delivery it is.
    index('deliveries_outbox').on(t.outboxId),
    // A campaign's figures count what came back, once a second while it sends: only the few that did.
    index('deliveries_returned')
      .on(t.campaignId, t.returned)
      .where(sql`returned IS NOT NULL`),
  ],
);

// Row types, as Drizzle reads them. Every module names its rows by these; only the owning module's
// service reads or writes the table itself.
export type Cluster = typeof clusters.$inferSelect;
export type Organiser = typeof organisers.$inferSelect;
/** An outbox row with its body: what the worker claims and hands to the transport. */
export type OutboxRow = typeof outbox.$inferSelect & Omit<typeof outboxBodies.$inferSelect, 'outboxId'>;
export type Huddle = typeof huddles.$inferSelect;
export type HuddleSeries = typeof huddleSeries.$inferSelect;
export type Slot = typeof slots.$inferSelect;
export type Invitation = typeof invitations.$inferSelect;
export type Member = typeof members.$inferSelect;
export type Booking = typeof bookings.$inferSelect;
export type WaitlistEntry = typeof waitlistEntries.$inferSelect;
export type WaitlistOffer = typeof waitlistOffers.$inferSelect;
export type Registration = typeof registrations.$inferSelect;
export type Attendance = typeof attendance.$inferSelect;
export type Subscriber = typeof subscribers.$inferSelect;
export type ConsentEvent = typeof consentEvents.$inferSelect;
export type Campaign = typeof campaigns.$inferSelect;
