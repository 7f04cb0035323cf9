// What a module hands the outbox (types only, so the checks and the service share it without a cycle).
import type { OutboxAttachment } from '../../db/schema.js';
import type { CalendarMethod } from '../../shared/calendar.js';

export interface OutgoingMessage {
  /** What caused the message (e.g. organiser.welcome): for logs and metrics. */
  kind: string;
  /** Exactly one recipient, "address" or "Name <address>". */
  to: string;
  subject: string;
  text: string;
  html: string;
  clusterId?: string | null;
  replyTo?: string;
  headers?: Record<string, string>;
  /** iCalendar body; its METHOD line must equal `method`, which also becomes the MIME method= parameter. */
  calendar?: { method: CalendarMethod; content: string };
  /** `content` is base64, so any file survives the JSON column unchanged. */
  attachments?: OutboxAttachment[];
  /** Defaults to the configured MAIL_FROM. */
  from?: string;
}

/**
 * A message whose body is made as it leaves rather than stored (a newsletter copy: its campaign's text with
 * the person's own links and name, as they are when it is sent). A `compose` handler of the outbox makes it.
 */
export type ComposedLater = Pick<OutgoingMessage, 'kind' | 'to' | 'subject' | 'clusterId' | 'replyTo' | 'from'>;

/** What a `compose` handler makes for a ComposedLater message. */
export type ComposedBody = Pick<OutgoingMessage, 'subject' | 'text' | 'html' | 'headers'>;
