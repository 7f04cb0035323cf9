// What a report that came back says about one message or address, however it arrived.
import type { BounceKind } from '../../db/schema.js';

export interface Finding {
  kind: BounceKind;
  /** The message it is about: its outbox id (from the return path) or its Message-ID (quoted in the report). */
  message?: { id?: string; messageId?: string };
  /** The address it is about, when the report names it. */
  email?: string;
  /** A mailto unsubscribe: the subscriber the address named. */
  subscriberId?: string;
  /** Status code and diagnostic, or the feedback type. */
  detail: string;
}

/** What was done with one finding. */
export interface Outcome {
  kind: BounceKind;
  /** The address it was about (only for the organiser's or operator's eyes: the CLI prints it, the webhook does not). */
  email: string | null;
  /** What it changed: suppressed, counted, unsubscribed, or why nothing. */
  result: string;
  campaignId?: string;
}
