// The error catalogue: every error the API can return, with its stable code, status and title.
import createError, { type FastifyErrorConstructor } from '@fastify/error';

export const catalogue = {
  VALIDATION_FAILED: { status: 400, title: 'The request is not valid' },
  MALFORMED_JSON: { status: 400, title: 'The request body is not valid JSON' },
  INVALID_UTF8: { status: 400, title: 'The request body is not valid UTF-8' },
  TIME_OUT_OF_RANGE: { status: 400, title: 'The time is too far in the past or the future' },
  NONEXISTENT_LOCAL_TIME: { status: 400, title: 'This local time does not exist in the time zone' },
  INVALID_RECURRENCE: { status: 400, title: 'The recurrence rule is not valid' },
  SIGN_IN_CODE_INVALID: { status: 400, title: 'The sign-in code is unknown, used or expired' },
  SERIES_TOO_LONG: { status: 400, title: 'The series has too many occurrences' },
  SLOT_NOT_FOUND: { status: 400, title: 'The huddle has no such slot' },
  AUTH_REQUIRED: { status: 401, title: 'Authentication is required' },
  WEBHOOK_SIGNATURE_INVALID: { status: 401, title: 'The webhook signature is not valid, or too old' },
  INVALID_CREDENTIALS: { status: 401, title: 'The credentials are not valid' },
  FORBIDDEN: { status: 403, title: 'These credentials may not do this' },
  ROUTE_NOT_FOUND: { status: 404, title: 'There is nothing at this address' },
  CLUSTER_NOT_FOUND: { status: 404, title: 'No such cluster' },
  ORGANISER_NOT_FOUND: { status: 404, title: 'No such organiser' },
  API_KEY_NOT_FOUND: { status: 404, title: 'No such API key' },
  HUDDLE_NOT_FOUND: { status: 404, title: 'No such huddle' },
  MEMBER_NOT_FOUND: { status: 404, title: 'No such member' },
  BOOKING_NOT_FOUND: { status: 404, title: 'No such booking' },
  FEED_NOT_FOUND: { status: 404, title: 'No calendar at this address' },
  CAMPAIGN_NOT_FOUND: { status: 404, title: 'No such campaign' },
  SUBSCRIBER_NOT_FOUND: { status: 404, title: 'No such subscriber' },
  OFFER_NOT_FOUND: { status: 404, title: 'No such waitlist offer' },
  NOT_REGISTERED: { status: 404, title: 'You are not registered for this huddle' },
  NOT_ON_WAITLIST: { status: 404, title: "Your organisation is not on this huddle's waitlist" },
  SUPPRESSION_NOT_FOUND: { status: 404, title: 'This address is not suppressed' },
  NOT_ACCEPTABLE: { status: 406, title: 'None of the accepted media types can be produced' },
  REQUEST_TIMEOUT: { status: 408, title: 'The request took too long to arrive' },
  CLUSTER_SLUG_TAKEN: { status: 409, title: 'A cluster with this slug exists already' },
  HUDDLE_CANCELLED: { status: 409, title: 'The huddle is cancelled' },
  HUDDLE_NOT_PUBLISHED: { status: 409, title: 'The huddle is not published' },
  CHECK_IN_NOT_OPEN: { status: 409, title: 'Check-in opens a day before the huddle starts' },
  MEMBER_EXISTS: { status: 409, title: 'This cluster has a member with this email already' },
  SLOT_TAKEN: { status: 409, title: 'This slot is booked already' },
  NO_SLOTS_LEFT: { status: 409, title: 'Every slot of this huddle is booked' },
  BOOKING_LIMIT_REACHED: { status: 409, title: 'Your organisation has reached its pitch limit' },
  BOOKING_CLOSED: { status: 409, title: 'Booking is not open for this huddle' },
  CANCELLATION_CUTOFF_PASSED: { status: 409, title: 'It is too late to cancel this pitch yourself' },
  BOOKING_NOT_PENDING: { status: 409, title: 'Only a pending booking can be approved or rejected' },
  BOOKING_CANCELLED: { status: 409, title: 'The booking is cancelled already' },
  CONFIRMATION_EXPIRED: { status: 410, title: 'This confirmation link has expired' },
  CAMPAIGN_SENT: { status: 409, title: 'This campaign has been sent' },
  CAMPAIGN_STARTED: { status: 409, title: 'This campaign has started (or is being sent): it cannot be scheduled or resumed now' },
  CAMPAIGN_NOT_SENDING: { status: 409, title: 'This campaign is not being sent' },
  ALREADY_REGISTERED: { status: 409, title: 'You are registered for this huddle already' },
  REGISTRATION_CLOSED: { status: 409, title: 'Registration for this huddle is closed' },
  ALREADY_ON_WAITLIST: { status: 409, title: "Your organisation is on this huddle's waitlist already" },
  SLOTS_AVAILABLE: { status: 409, title: 'There are free slots: book one instead of joining the waitlist' },
  OFFER_CLOSED: { status: 409, title: 'The waitlist offer is no longer open' },
  BOOKINGS_AFFECTED: { status: 409, title: 'The change would drop or move booked pitch slots' },
  IDEMPOTENCY_KEY_IN_FLIGHT: { status: 409, title: 'A request with this Idempotency-Key is still being processed' },
  SUPPRESSION_ERASED: { status: 409, title: 'An erased address stays suppressed' },
  ORGANISER_EXISTS: { status: 409, title: 'This cluster has an organiser with this email already' },
  BODY_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The request body has a media type this endpoint does not take' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'This Idempotency-Key was used with a different request' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  INTERNAL_ERROR: { status: 500, title: 'Something went wrong on our side' },
  NOT_READY: { status: 503, title: 'The service is not ready' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof catalogue;

export interface FieldError {
  /** JSON pointer or parameter name of the offending value. */
  field: string;
  message: string;
}

/** An error a client can act on; the problem plugin turns it into application/problem+json. */
export interface AppError extends Error {
  code: ErrorCode;
  statusCode: number;
  errors?: FieldError[];
  headers?: Record<string, string>;
  /** How many things the refusal is about (the booked pitches a change would move), for a page to say. */
  affected?: number;
}

// A 4xx is an answer to the client, not a fault to trace: no stack is captured for it (capturing one
// was a visible share of a refused booking's time). Server errors keep theirs.
const constructors = Object.fromEntries(
  Object.entries(catalogue).map(([code, entry]) => [code, createError(code, '%s', entry.status, Error, entry.status >= 500)]),
) as Record<ErrorCode, FastifyErrorConstructor>;

/** Builds a catalogue error: `throw problem('CLUSTER_NOT_FOUND')`. */
export function problem(
  code: ErrorCode,
  detail?: string,
  extra: { errors?: FieldError[]; headers?: Record<string, string>; affected?: number } = {},
): AppError {
  const error = new constructors[code](detail ?? catalogue[code].title) as unknown as AppError;
  if (extra.errors) error.errors = extra.errors;
  if (extra.affected !== undefined) error.affected = extra.affected;
  if (extra.headers) error.headers = extra.headers;
  return error;
}

export function isAppError(error: unknown): error is AppError {
  const code = (error as unknown as { code?: unknown }).code;
  return error instanceof Error && typeof code === 'string' && Object.hasOwn(catalogue, code);
}
