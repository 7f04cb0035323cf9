// What people type: email addresses, mailboxes ("Name <address>"), names, slugs and time zones, checked one way everywhere.
import addressparser from 'nodemailer/lib/addressparser';
import addFormats from 'ajv-formats';
import { problem } from '../errors.js';

const EMAIL = /^[^\s@<>,;:"()[\]\\]+@[^\s@<>,;:"()[\]\\]+\.[^\s@<>,;:"()[\]\\]+$/;
const LOCALHOST_EMAIL = /^[^\s@<>,;:"()[\]\\]+@localhost$/;
export const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/** Lower-cases and trims an address; dots and plus parts are left alone (they matter to some providers). */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

// The same rule as the API schemas' "email" format (ajv-formats' full email format), so the CLI, the
// CSV import and the services accept exactly what the HTTP API accepts.
const FULL_EMAIL = addFormats.default.get('email', 'full') as RegExp;

export function isEmailAddress(value: string, options: { allowLocalhost?: boolean } = {}): boolean {
  return (
    value.length <= 254 &&
    ((EMAIL.test(value) && FULL_EMAIL.test(value)) || (options.allowLocalhost === true && LOCALHOST_EMAIL.test(value)))
  );
}

/** One mailbox, "address" or "Name <address>" (quoted names may hold commas); null if it is not exactly one. */
export function parseMailbox(value: string, options: { allowLocalhost?: boolean } = {}): { name: string; address: string } | null {
  if (/[\r\n]/.test(value)) return null;
  // A bare address (what a subscriber's row holds, on every message sent) needs no parser: without spaces,
  // control characters (the parser drops those), quotes, brackets or separators nothing in it can make a
  // name, a group or a second mailbox, and the parser would return it as it is.
  if (!/[\s\x00-\x1f\x7f<>()[\],;:"\\]/.test(value)) return isEmailAddress(value, options) ? { address: value, name: '' } : null;
  const parsed = addressparser(value, { flatten: true });
  if (parsed.length !== 1) return null;
  const [mailbox] = parsed as [{ name: string; address: string }];
  // addressparser reads "x@y.z <a@b.co>" as a name that is an address: refuse such look-alikes.
  if (!isEmailAddress(mailbox.address, options) || mailbox.name.includes('@')) return null;
  return mailbox;
}

/** A display name: 1 to `max` characters on one line, trimmed. */
export function cleanName(value: string, max = 200): string | null {
  const name = value.trim();
  return name.length > 0 && name.length <= max && !/[\u0000-\u001f\u007f]/.test(name) ? name : null;
}

/** Text of several lines from a form (a browser sends CRLF: kept as LF), trimmed, cut to `max` characters, without control characters but tab and line breaks. */
export function cleanParagraphs(value: string, max: number): string {
  return value
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .trim()
    .slice(0, max);
}

/**
 * The zone's name as given, if it names an IANA zone, with its letters' case put right when it differs from
 * the zone's own name only in case ("europe/london" -> "Europe/London"); null if there is no such zone.
 * A link keeps the name it was given: Intl (ICU, following CLDR) would turn "Asia/Kolkata" into the older
 * "Asia/Calcutta", and "Europe/Kyiv" into "Europe/Kiev", which is not what the organiser chose.
 */
export function timeZoneName(zone: string): string | null {
  // Newer ICU also takes UTC offsets ("+05:30") as zones; they are not IANA names, and Node 20 refuses them.
  if (!/^[A-Za-z]/.test(zone)) return null;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-GB', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
  return resolved.toLowerCase() === zone.toLowerCase() ? resolved : zone;
}

/** A time zone from a request, kept as given (see timeZoneName); anything that is not one is a 400 naming the field. */
export function checkTimeZone(zone: string, field = 'body/timezone'): string {
  const name = timeZoneName(zone.trim());
  if (!name)
    throw problem('VALIDATION_FAILED', `timezone "${zone}" is not an IANA time zone`, {
      errors: [{ field, message: 'is not an IANA time zone' }],
    });
  return name;
}

/** Host names no one outside this machine (or outside a test) reaches: loopback and reserved names (RFC 2606, RFC 6761). */
export function isLocalHost(host: string): boolean {
  const name = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (name === 'localhost' || name === '::1' || name === '0.0.0.0' || /^127\.\d+\.\d+\.\d+$/.test(name)) return true;
  return ['localhost', 'test', 'invalid', 'example', 'local'].some((tld) => name.endsWith(`.${tld}`));
}
