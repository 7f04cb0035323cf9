// Reads a recurrence rule part by part: the WEEKLY and MONTHLY subset of RFC 5545 (3.3.10) that a
// series uses. Anything else is refused with INVALID_RECURRENCE and a detail naming the part.
import { problem } from '../../errors.js';

export const MAX_OCCURRENCES = 100;
/** The longest gap between periods: 99 weeks or 99 months. */
export const MAX_INTERVAL = 99;

/** Weekday names in RFC 5545 order of a Monday week: index 0 is Monday. */
export const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;

export interface WeekdayRule {
  /** 0 (Monday) to 6 (Sunday). */
  weekday: number;
  /** 1TU: 1; -1FR: -1; TU: null (every Tuesday of the period). */
  ordinal: number | null;
}

export interface RecurrenceRule {
  /** The rule as given, upper case, without an RRULE: prefix. */
  text: string;
  freq: 'WEEKLY' | 'MONTHLY';
  interval: number;
  count: number | null;
  /** UNTIL as written: a date (20270630) or a UTC date-time (20270630T235959Z). */
  until: string | null;
  byDay: WeekdayRule[];
  byMonthDay: number[];
  byMonth: number[];
  bySetPos: number[];
  /** The weekday a week starts on, 0 (Monday) to 6. */
  weekStart: number;
}

const KNOWN_UNSUPPORTED = new Set(['BYSECOND', 'BYMINUTE', 'BYHOUR', 'BYYEARDAY', 'BYWEEKNO', 'RSCALE', 'SKIP']);
const SUPPORTED = 'FREQ, INTERVAL, COUNT or UNTIL, and BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS or WKST';

export function invalidRule(detail: string) {
  return problem('INVALID_RECURRENCE', detail, { errors: [{ field: 'body/rrule', message: detail }] });
}

/** A whole number from min to max (a sign allowed when min is negative), or a refusal naming the part. */
function wholeNumber(part: string, value: string, min: number, max: number, what: string): number {
  const pattern = min < 0 ? /^[+-]?\d{1,4}$/ : /^\+?\d{1,4}$/;
  const number = pattern.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(number) || number < min || number > max || number === 0) {
    throw invalidRule(`${part}=${value} is not valid: ${part} ${what}`);
  }
  return number;
}

function list(part: string, value: string): string[] {
  const items = value.split(',');
  if (items.some((item) => item === '')) throw invalidRule(`${part}=${value} is not valid: ${part} is a list separated by commas`);
  return items;
}

function readFreq(value: string): 'WEEKLY' | 'MONTHLY' {
  if (value === 'WEEKLY' || value === 'MONTHLY') return value;
  throw invalidRule(`FREQ=${value} is not supported: a series repeats WEEKLY or MONTHLY`);
}

function readCount(value: string): number {
  if (!/^\d+$/.test(value))
    throw invalidRule(`COUNT=${value} is not valid: COUNT is a whole number of occurrences, from 1 to ${MAX_OCCURRENCES}`);
  const count = Number(value);
  if (count < 1) throw invalidRule(`COUNT=${value} is not valid: COUNT is at least 1`);
  if (count > MAX_OCCURRENCES)
    throw problem('SERIES_TOO_LONG', `A series has at most ${MAX_OCCURRENCES} occurrences: COUNT=${value} is too many`);
  return count;
}

function readUntil(value: string): string {
  const match = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?$/.exec(value);
  const [year, month, day, hour = 0, minute = 0, second = 0] = (match?.slice(1) ?? []).map((n) => (n === undefined ? 0 : Number(n)));
  const date = match ? new Date(Date.UTC(year!, month! - 1, day!)) : null;
  const real = date && date.getUTCFullYear() === year && date.getUTCMonth() === month! - 1 && date.getUTCDate() === day;
  if (!real || hour > 23 || minute > 59 || second > 59) {
    throw invalidRule(`UNTIL=${value} is not valid: UNTIL is a date (20270630) or a UTC date-time (20270630T235959Z)`);
  }
  return value;
}

function readByDay(value: string, freq: 'WEEKLY' | 'MONTHLY'): WeekdayRule[] {
  return list('BYDAY', value).map((item) => {
    const match = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/.exec(item);
    if (!match)
      throw invalidRule(`BYDAY=${value} is not valid: ${item} is not a weekday (MO, TU, WE, TH, FR, SA, SU, or 1TU, -1FR in a month)`);
    const weekday = WEEKDAYS.indexOf(match[2] as (typeof WEEKDAYS)[number]);
    if (match[1] === undefined) return { weekday, ordinal: null };
    if (freq === 'WEEKLY') throw invalidRule(`BYDAY=${value} is not valid: an ordinal such as ${item} needs FREQ=MONTHLY`);
    return {
      weekday,
      ordinal: wholeNumber('BYDAY', match[1], -5, 5, `ordinals go from 1 to 5 or -1 to -5 (a month has at most five ${match[2]})`),
    };
  });
}

const READERS: Record<string, (rule: RecurrenceRule, value: string) => void> = {
  INTERVAL: (rule, value) => {
    rule.interval = wholeNumber('INTERVAL', value, 1, MAX_INTERVAL, `is a whole number from 1 to ${MAX_INTERVAL}`);
  },
  COUNT: (rule, value) => {
    rule.count = readCount(value);
  },
  UNTIL: (rule, value) => {
    rule.until = readUntil(value);
  },
  BYDAY: (rule, value) => {
    rule.byDay = readByDay(value, rule.freq);
  },
  BYMONTHDAY: (rule, value) => {
    if (rule.freq === 'WEEKLY') throw invalidRule(`BYMONTHDAY=${value} is not valid with FREQ=WEEKLY: use FREQ=MONTHLY`);
    rule.byMonthDay = list('BYMONTHDAY', value).map((item) =>
      wholeNumber('BYMONTHDAY', item, -31, 31, 'goes from 1 to 31, or -1 (the last day) to -31'),
    );
  },
  BYMONTH: (rule, value) => {
    rule.byMonth = list('BYMONTH', value).map((item) => wholeNumber('BYMONTH', item, 1, 12, 'goes from 1 (January) to 12'));
  },
  BYSETPOS: (rule, value) => {
    const most = rule.freq === 'WEEKLY' ? 7 : 31;
    rule.bySetPos = list('BYSETPOS', value).map((item) =>
      wholeNumber('BYSETPOS', item, -most, most, `goes from 1 to ${most}, or -1 to -${most}`),
    );
  },
  WKST: (rule, value) => {
    const weekday = WEEKDAYS.indexOf(value as (typeof WEEKDAYS)[number]);
    if (weekday < 0) throw invalidRule(`WKST=${value} is not valid: WKST is one of ${WEEKDAYS.join(', ')}`);
    rule.weekStart = weekday;
  },
};

/** Reads and checks every part of a rule such as FREQ=MONTHLY;BYDAY=1TU;COUNT=12. */
export function parseRule(input: string): RecurrenceRule {
  const text = input
    .trim()
    .replace(/^RRULE:/i, '')
    .toUpperCase();
  const parts = new Map<string, string>();
  for (const part of text.split(';')) {
    const match = /^([A-Z-]+)=(.+)$/.exec(part);
    if (!match) throw invalidRule(`"${part}" is not a rule part: a rule looks like FREQ=MONTHLY;BYDAY=1TU;COUNT=12`);
    const [, name, value] = match as unknown as [string, string, string];
    if (parts.has(name)) throw invalidRule(`${name} appears twice: give each part once`);
    if (name !== 'FREQ' && !READERS[name]) {
      const what = KNOWN_UNSUPPORTED.has(name) ? 'is not supported in a series' : 'is not a recurrence rule part';
      throw invalidRule(`${name} ${what}; use ${SUPPORTED}`);
    }
    parts.set(name, value);
  }
  const freq = parts.get('FREQ');
  if (freq === undefined) throw invalidRule('FREQ is missing: a rule starts FREQ=WEEKLY or FREQ=MONTHLY');
  const rule: RecurrenceRule = {
    text,
    freq: readFreq(freq),
    interval: 1,
    count: null,
    until: null,
    byDay: [],
    byMonthDay: [],
    byMonth: [],
    bySetPos: [],
    weekStart: 0,
  };
  for (const [name, value] of parts) if (name !== 'FREQ') READERS[name]!(rule, value);
  if (rule.count !== null && rule.until !== null) throw invalidRule('COUNT and UNTIL are both given: use one of them');
  if (rule.bySetPos.length > 0 && rule.byDay.length + rule.byMonthDay.length + rule.byMonth.length === 0) {
    throw invalidRule('BYSETPOS needs BYDAY, BYMONTHDAY or BYMONTH to choose from');
  }
  return rule;
}
