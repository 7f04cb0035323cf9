// Series: expands an RRULE in the series' own time zone, so 09:30 stays 09:30 local across DST changes.
import { DateTime } from 'luxon';
import rrule from 'rrule';
import { problem } from '../../errors.js';
import { localToInstant } from './huddles.time.js';

const { RRule } = rrule;

export const MAX_OCCURRENCES = 100;

const ALLOWED_PARTS = new Set(['FREQ', 'INTERVAL', 'COUNT', 'UNTIL', 'BYDAY', 'BYMONTHDAY', 'BYSETPOS', 'BYMONTH', 'WKST']);
const RULE_SHAPE = /^[A-Z]+=[A-Z0-9,+-]+(?:;[A-Z]+=[A-Z0-9,+-]+)*$/;

function invalidRule(detail: string) {
  return problem('INVALID_RECURRENCE', detail, { errors: [{ field: 'body/rrule', message: detail }] });
}

/** UNTIL as an instant: a UTC date-time as given, or a date meaning the whole of that local day. */
function untilInstant(value: string, zone: string): DateTime {
  const utc = /^(\d{8})T(\d{6})Z$/.exec(value);
  if (utc) return DateTime.fromFormat(`${utc[1]}${utc[2]}`, 'yyyyLLddHHmmss', { zone: 'utc' });
  if (/^\d{8}$/.test(value)) return DateTime.fromFormat(value, 'yyyyLLdd', { zone }).endOf('day').toUTC();
  throw invalidRule('UNTIL must be a date (20270630) or a UTC date-time (20270630T235959Z)');
}

/**
 * The UTC start of every occurrence. `first` is the local wall-clock start of the first one.
 * Occurrences are computed on wall-clock time (floating), then placed in `zone` one by one; a local
 * time skipped by a DST change moves forward by the gap and a repeated one takes its first instant (RFC 5545).
 */
export function expandRule(rule: string, first: DateTime, zone: string): DateTime[] {
  const text = rule
    .trim()
    .replace(/^RRULE:/i, '')
    .toUpperCase();
  if (!RULE_SHAPE.test(text)) throw invalidRule('rrule must look like FREQ=MONTHLY;BYDAY=1TU;COUNT=12');
  const parts = Object.fromEntries(text.split(';').map((part) => part.split('=') as [string, string]));
  for (const key of Object.keys(parts)) {
    if (!ALLOWED_PARTS.has(key))
      throw invalidRule(`${key} is not supported; use FREQ, INTERVAL, COUNT or UNTIL, and BYDAY, BYMONTHDAY, BYSETPOS or BYMONTH`);
  }
  if (parts.FREQ !== 'WEEKLY' && parts.FREQ !== 'MONTHLY') throw invalidRule('FREQ must be WEEKLY or MONTHLY');
  if (parts.COUNT && parts.UNTIL) throw invalidRule('use COUNT or UNTIL, not both');

  let options;
  try {
    const { until: _until, ...parsed } = RRule.parseString(text);
    options = parsed;
  } catch {
    throw invalidRule('rrule could not be read');
  }
  const local = first.setZone(zone);
  const floatingStart = new Date(Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute));
  const limit = MAX_OCCURRENCES + 1;
  if (options.count != null && options.count < 1) throw invalidRule('COUNT must be at least 1');
  if (options.count != null && options.count > MAX_OCCURRENCES) {
    throw problem('SERIES_TOO_LONG', `A series has at most ${MAX_OCCURRENCES} occurrences`);
  }
  const count = options.count ?? limit;
  const until = parts.UNTIL ? untilInstant(parts.UNTIL, zone) : undefined;

  let floating: Date[];
  try {
    floating = new RRule({ ...options, dtstart: floatingStart, count: Math.min(count, limit), until: null }).all();
  } catch {
    throw invalidRule('rrule could not be expanded');
  }
  const instants = floating
    .map((d) =>
      localToInstant(
        { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes() },
        zone,
      ),
    )
    .filter((instant) => !until || instant <= until);
  if (instants.length === 0) throw invalidRule('the rule gives no occurrences');
  if (instants.length > MAX_OCCURRENCES) {
    throw problem('SERIES_TOO_LONG', `A series has at most ${MAX_OCCURRENCES} occurrences: add COUNT or an earlier UNTIL`);
  }
  return instants;
}
