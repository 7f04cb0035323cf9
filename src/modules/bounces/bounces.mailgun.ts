// Mailgun's webhook (pure): its signature checked, its failed and complained events read as findings.
// Mailgun is the provider we take events from because its signature is an HMAC with a key the two sides
// share (SES signs through SNS certificates fetched over the internet; Postmark does not sign), because
// it says whether a failure is permanent or temporary, and because every event carries the Message-ID
// we gave the message, so an event is matched to our outbox row exactly. It also has an EU region.
// https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks
import { createHmac, timingSafeEqual } from 'node:crypto';
import { classify, enhancedStatus } from './bounces.reports.js';
import type { Finding } from './bounces.types.js';

export interface MailgunSignature {
  timestamp: string | number;
  token: string;
  signature: string;
}

/** Signatures older (or newer) than this are refused: a captured request cannot be replayed later. */
export const MAILGUN_MAX_AGE_MS = 5 * 60_000;

/** True when Mailgun signed this timestamp and token with `signingKey`, within MAILGUN_MAX_AGE_MS of `now`. */
export function isSignedByMailgun(signingKey: string, signed: MailgunSignature, now: Date): boolean {
  const seconds = Number(signed.timestamp);
  if (!Number.isFinite(seconds) || Math.abs(now.getTime() - seconds * 1000) > MAILGUN_MAX_AGE_MS) return false;
  const expected = createHmac('sha256', signingKey).update(`${signed.timestamp}${signed.token}`).digest('hex');
  const given = Buffer.from(signed.signature.toLowerCase());
  return given.length === expected.length && timingSafeEqual(given, Buffer.from(expected));
}

type Json = Record<string, unknown>;
const object = (value: unknown): Json => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {});
const string = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

/** What one event says, or why it is not acted on. */
export function findingOfMailgun(eventData: Json): Finding | { ignored: string } {
  const event = string(eventData.event);
  const recipient = string(eventData.recipient)?.toLowerCase();
  const messageId = string(object(object(eventData.message).headers)['message-id']);
  if (!recipient) return { ignored: 'the event names no recipient' };
  const status = object(eventData['delivery-status']);
  const code = typeof status.code === 'number' && Number.isInteger(status.code) ? String(status.code) : string(status.code);
  const detail = [code, string(status.description) ?? string(status.message), string(eventData.reason)]
    .filter((part) => part !== undefined && part !== '')
    .join(' ')
    .slice(0, 300);
  const message = messageId ? { messageId } : undefined;
  if (event === 'failed') {
    const severity = string(eventData.severity);
    // Mailgun's permanent failures include policy refusals (5.7.x): the enhanced status, when given, decides.
    const enhanced = enhancedStatus(detail);
    const kind = severity !== 'permanent' ? 'soft' : enhanced ? classify(enhanced, detail) : 'hard';
    return { kind, email: recipient, message, detail: detail || `mailgun: ${severity} failure` };
  }
  if (event === 'complained') return { kind: 'complaint', email: recipient, message, detail: 'mailgun: complained' };
  return { ignored: `Mailgun's ${event ?? 'unnamed'} events are not acted on` };
}
