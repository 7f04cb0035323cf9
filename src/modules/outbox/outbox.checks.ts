// What the outbox refuses to hold: a message must have exactly one recipient, no header injection, and
// a calendar part whose METHOD matches the MIME method. A refusal is a plain Error (the modules check
// what people send before it becomes an email, so reaching one here is a fault of ours).
import { parseMailbox } from '../../lib/text.js';
import type { OutgoingMessage } from './outbox.types.js';

const HEADER_NAME = /^[!-9;-~]+$/;
// Set from the row's own fields; a custom header must not override them or add recipients.
const RESERVED_HEADERS = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'sender',
  'reply-to',
  'subject',
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
]);

function invalid(message: string): never {
  throw new Error(`outbox: ${message}`);
}

export function checkAddress(field: string, value: string): string {
  if (/[\r\n]/.test(value)) invalid(`${field} contains a line break`);
  if (!parseMailbox(value, { allowLocalhost: true })) invalid(`${field} must be exactly one address, got ${JSON.stringify(value)}`);
  return value.trim();
}

export function checkMessage(message: OutgoingMessage): void {
  if (message.kind.trim() === '') invalid('kind is empty');
  if (/[\r\n]/.test(message.subject)) invalid('subject contains a line break');
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (!HEADER_NAME.test(name)) invalid(`header name ${JSON.stringify(name)} is not valid`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) invalid(`header ${name} is set from the message itself`);
    if (/[\r\n]/.test(value)) invalid(`header ${name} contains a line break`);
  }
  if (message.calendar) {
    const { method, content } = message.calendar;
    if (!['REQUEST', 'CANCEL', 'PUBLISH'].includes(method)) invalid(`calendar method ${method} is not supported`);
    const inCalendar = /^METHOD:(.*?)\r?$/im.exec(content)?.[1]?.trim().toUpperCase();
    // A mismatch makes clients ignore or misfile the invitation, so it never leaves the building.
    if (inCalendar !== method) invalid(`calendar METHOD ${inCalendar ?? '(none)'} does not match ${method}`);
  }
}
