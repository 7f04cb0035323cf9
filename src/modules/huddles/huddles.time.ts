// Wall-clock time done right: parse an instant or a local time in an IANA zone, and show both back.
import { DateTime, Info } from 'luxon';
import { problem } from '../../errors.js';

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;
const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;
/** The offsets clocks on Earth use or have used: UTC-12:00 (Baker Island) to UTC+14:00 (Kiribati). */
const OFFSET_MINUTES = { min: -12 * 60, max: 14 * 60 };

export interface ZonedTime {
  /** UTC instant, ISO 8601 with Z. */
  utc: string;
  /** The same instant as local time in `timezone`, with its offset. */
  local: string;
  timezone: string;
}

function invalidTime(field: string, detail: string) {
  return problem('VALIDATION_FAILED', `${field} ${detail}`, { errors: [{ field: `body/${field}`, message: detail }] });
}

/**
 * Resolves a request time to a UTC instant.
 * - With an offset or Z ("2026-12-01T09:30:00+00:00"): that instant.
 * - Without ("2026-12-01T09:30"): wall-clock time in `zone`. A time skipped by a spring-forward
 *   change is refused (NONEXISTENT_LOCAL_TIME). A time that happens twice in an autumn fall-back
 *   hour means its first occurrence (the earlier instant), as RFC 5545 does; send an offset for the other.
 */
export function resolveTime(value: string, zone: string, field = 'start'): DateTime {
  const withOffset = WITH_OFFSET.exec(value);
  if (withOffset) {
    const [, sign, hours, minutes] = withOffset;
    if (sign) {
      const offset = (sign === '-' ? -1 : 1) * (Number(hours) * 60 + Number(minutes));
      if (Number(minutes) > 59 || offset < OFFSET_MINUTES.min || offset > OFFSET_MINUTES.max) {
        throw invalidTime(field, `has the offset ${sign}${hours}:${minutes}, which no clock uses: offsets run from -12:00 to +14:00`);
      }
    }
    const instant = DateTime.fromISO(value, { setZone: true });
    if (!instant.isValid) throw invalidTime(field, 'is not a valid date and time');
    return instant.toUTC();
  }
  const match = LOCAL.exec(value);
  if (!match) throw invalidTime(field, 'must be ISO 8601 with an offset, or a local date and time such as 2026-12-01T09:30');
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  const local = DateTime.fromObject({ year, month, day, hour, minute, second: second || 0 }, { zone });
  if (!local.isValid) throw invalidTime(field, 'is not a valid date and time');
  if (local.hour !== hour || local.minute !== minute || local.day !== day) {
    throw problem('NONEXISTENT_LOCAL_TIME', `${value} does not exist in ${zone}: the clocks go forward then. Choose another time.`, {
      errors: [{ field: `body/${field}`, message: 'falls in a daylight-saving gap' }],
    });
  }
  const candidates = local.getPossibleOffsets();
  const first = candidates.reduce((earliest, next) => (next.toMillis() < earliest.toMillis() ? next : earliest), local);
  return first.toUTC();
}

/** Wall-clock fields to a UTC instant for expanded occurrences: a gap moves forward, an overlap takes the first. */
export function localToInstant(fields: { year: number; month: number; day: number; hour: number; minute: number }, zone: string): DateTime {
  const local = DateTime.fromObject(fields, { zone });
  const candidates = local.getPossibleOffsets();
  const first = candidates.reduce((earliest, next) => (next.toMillis() < earliest.toMillis() ? next : earliest), local);
  return first.toUTC();
}

/**
 * An instant in UTC and as local time in `zone`, to the second (milliseconds only when there are
 * some), exactly as luxon's toISO({ suppressMilliseconds: true }) writes them. Luxon works out the
 * zone's offset once (an Intl call, the costly part); the strings are built from it.
 */
export function zoned(instant: Date | number, zone: string): Readonly<ZonedTime> {
  const ms = typeof instant === 'number' ? instant : instant.getTime();
  const resolved = Info.normalizeZone(zone);
  const offset = resolved.offset(ms);
  // Luxon writes Z for UTC itself and +00:00 for a zone that is at UTC's time just now (London in winter).
  const suffix = resolved.isUniversal && offset === 0 ? 'Z' : offsetText(offset);
  return Object.freeze({ utc: isoAt(ms) + 'Z', local: isoAt(ms + offset * 60_000) + suffix, timezone: zone });
}

/** The date and time of `ms` as ISO 8601 without a zone designator. */
function isoAt(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? iso.slice(0, 19) : iso.slice(0, 23);
}

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  // Whole minutes, as luxon writes them (a few historical zones were offset by seconds too).
  const abs = Math.trunc(Math.abs(minutes));
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
