// Series: expands a recurrence rule in the series' own time zone, so 09:30 stays 09:30 local across DST
// changes. The expansion walks at most HORIZON_YEARS of periods (weeks or months), so any rule, even one
// that never occurs, is answered at once; and it says which occurrences it moved or left out.
// Written here rather than left to rrule.js (which the tests use as the reference): rrule.js checks UNTIL
// and COUNT only against dates a rule produces, so a rule that produces none walks to the year 9999
// whatever bound it is given (0.3-2.5 s on the event loop, bench/recurrence.ts), and it cannot say why
// an occurrence moved or was dropped. Only WEEKLY and MONTHLY rules are accepted (huddles.rrule.ts).
import { DateTime } from 'luxon';
import { problem } from '../../errors.js';
import { invalidRule, MAX_INTERVAL, MAX_OCCURRENCES, parseRule, type RecurrenceRule } from './huddles.rrule.js';
import { localToInstant } from './huddles.time.js';

export { MAX_OCCURRENCES } from './huddles.rrule.js';

/** A series ends within this many years of its first occurrence. */
export const HORIZON_YEARS = 10;
/** The most periods an expansion looks at: every week of the horizon (a month is longer). */
export const MAX_PERIODS = Math.ceil((HORIZON_YEARS * 366) / 7) + 1;

const DAY_MS = 86_400_000;

export interface Adjustment {
  /** moved: the local time does not exist that day (clocks go forward); dropped: no huddle for it. */
  kind: 'moved' | 'dropped';
  /** The local date and time the rule or the template asked for, e.g. 2026-03-29T01:30. */
  requested: string;
  /** Where the huddle was placed (local time with offset), or null when it was dropped. */
  startsAt: string | null;
  detail: string;
}

export interface Expansion {
  /** The UTC start of every occurrence, in order. */
  starts: DateTime[];
  adjustments: Adjustment[];
  /** How many periods (weeks or months) were looked at: never more than MAX_PERIODS. */
  periods: number;
}

/** Days since 1970-01-01 of a calendar date (month 1-12); the date may overflow (31 April is 1 May). */
function dayNumber(year: number, month: number, day: number): number {
  return Date.UTC(year, month - 1, day) / DAY_MS;
}

function dateOf(day: number): { year: number; month: number; day: number; weekday: number } {
  const date = new Date(day * DAY_MS);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate(), weekday: (date.getUTCDay() + 6) % 7 };
}

function daysInMonth(year: number, month: number): number {
  return dayNumber(year, month + 1, 1) - dayNumber(year, month, 1);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function localText(day: number, hour: number, minute: number): string {
  const { year, month, day: date } = dateOf(day);
  return `${pad(year, 4)}-${pad(month)}-${pad(date)}T${pad(hour)}:${pad(minute)}`;
}

/** UNTIL as an instant: a UTC date-time as given, or a date meaning the whole of that local day. */
function untilInstant(value: string, zone: string): DateTime {
  if (value.endsWith('Z')) return DateTime.fromFormat(value, "yyyyLLdd'T'HHmmss'Z'", { zone: 'utc' });
  return DateTime.fromFormat(value, 'yyyyLLdd', { zone }).endOf('day').toUTC();
}

/** BYSETPOS: the n-th (or n-th from last) of a period's candidates, in order, each once. */
function setPositions(days: number[], positions: number[]): number[] {
  if (positions.length === 0) return days;
  const chosen = positions.map((p) => (p > 0 ? days[p - 1] : days[days.length + p])).filter((d) => d !== undefined);
  return [...new Set(chosen)].sort((a, b) => a - b);
}

/**
 * The candidate days of one week (starting on `first`), in order. The first week starts on the
 * template's day, as rrule.js and python-dateutil read it, so BYSETPOS=1 is never before the start.
 */
function weekDays(rule: RecurrenceRule, first: number, startDay: number): number[] {
  const weekdays = rule.byDay.length > 0 ? rule.byDay.map((d) => d.weekday) : [dateOf(startDay).weekday];
  const days: number[] = [];
  for (let day = Math.max(first, startDay); day < first + 7; day += 1) {
    const date = dateOf(day);
    if (!weekdays.includes(date.weekday)) continue;
    if (rule.byMonth.length > 0 && !rule.byMonth.includes(date.month)) continue;
    days.push(day);
  }
  return setPositions(days, rule.bySetPos);
}

/** The candidate days of one month, in order. */
function monthDays(rule: RecurrenceRule, year: number, month: number, templateDay: number): number[] {
  if (rule.byMonth.length > 0 && !rule.byMonth.includes(month)) return [];
  const length = daysInMonth(year, month);
  const monthDaysWanted = rule.byMonthDay.length === 0 && rule.byDay.length === 0 ? [templateDay] : rule.byMonthDay;
  const first = dayNumber(year, month, 1);
  const firstWeekday = dateOf(first).weekday;
  const days: number[] = [];
  for (let date = 1; date <= length; date += 1) {
    const weekday = (firstWeekday + date - 1) % 7;
    const nth = Math.ceil(date / 7);
    const nthFromEnd = -Math.ceil((length - date + 1) / 7);
    const byMonthDay = monthDaysWanted.length === 0 || monthDaysWanted.some((d) => d === date || d === date - length - 1);
    const byDay =
      rule.byDay.length === 0 ||
      rule.byDay.some((d) => d.weekday === weekday && (d.ordinal === null || d.ordinal === nth || d.ordinal === nthFromEnd));
    if (byMonthDay && byDay) days.push(first + date - 1);
  }
  return setPositions(days, rule.bySetPos);
}

/**
 * Expands `ruleText` from `first` (the first occurrence's start, read in `zone`). Occurrences are
 * wall-clock dates and times placed in `zone` one by one: a time skipped by a DST change moves forward
 * by the gap and a repeated one takes its first instant (RFC 5545); each move is reported, and so is a
 * template start that is not an occurrence of the rule and a month without the template's day.
 */
export function expandRule(ruleText: string, first: DateTime, zone: string): Expansion {
  const rule = parseRule(ruleText);
  const local = first.setZone(zone);
  const { hour, minute } = local;
  const startDay = dayNumber(local.year, local.month, local.day);
  const lastLocalDay = local.plus({ years: HORIZON_YEARS });
  const horizonDay = dayNumber(lastLocalDay.year, lastLocalDay.month, lastLocalDay.day);
  const horizon = lastLocalDay.endOf('day').toUTC();
  const until = rule.until === null ? null : untilInstant(rule.until, zone);
  if (until && until < first) throw invalidRule(`UNTIL=${rule.until} is before the first occurrence: the rule gives no occurrences`);
  if (until && until > horizon) {
    throw problem('SERIES_TOO_LONG', `A series ends within ${HORIZON_YEARS} years of its first occurrence: UNTIL=${rule.until} is later`);
  }

  const untilLocal = until?.setZone(zone);
  const lastDay = untilLocal ? Math.min(horizonDay, dayNumber(untilLocal.year, untilLocal.month, untilLocal.day)) : horizonDay;
  const starts: DateTime[] = [];
  const startDays: number[] = [];
  const adjustments: Adjustment[] = [];
  const skipped: { day: number; adjustment: Adjustment }[] = [];
  const weekStart = startDay - ((dateOf(startDay).weekday - rule.weekStart + 7) % 7);
  let periods = 0;
  let done = false;
  for (let period = 0; period < MAX_PERIODS && !done; period += 1) {
    const periodFirst =
      rule.freq === 'WEEKLY' ? weekStart + period * 7 * rule.interval : dayNumber(local.year, local.month + period * rule.interval, 1);
    if (periodFirst > lastDay) break;
    periods += 1;
    const { year, month } = dateOf(periodFirst);
    const days = rule.freq === 'WEEKLY' ? weekDays(rule, periodFirst, startDay) : monthDays(rule, year, month, local.day);
    if (rule.freq === 'MONTHLY' && rule.byDay.length + rule.byMonthDay.length === 0 && days.length === 0 && periodFirst > startDay) {
      if (rule.byMonth.length === 0 || rule.byMonth.includes(month)) {
        const requested = `${pad(year, 4)}-${pad(month)}-${pad(local.day)}T${pad(hour)}:${pad(minute)}`;
        const detail = `${requested.slice(0, 10)} does not exist: no huddle that month`;
        skipped.push({ day: periodFirst, adjustment: { kind: 'dropped', requested, startsAt: null, detail } });
      }
    }
    for (const day of days) {
      if (day < startDay) continue;
      if (day > lastDay) break;
      const date = dateOf(day);
      const instant = localToInstant({ year: date.year, month: date.month, day: date.day, hour, minute }, zone);
      if (until && instant > until) {
        done = true;
        break;
      }
      const placed = instant.setZone(zone);
      if (placed.hour !== hour || placed.minute !== minute) {
        const requested = localText(day, hour, minute);
        adjustments.push({
          kind: 'moved',
          requested,
          startsAt: placed.toISO({ suppressMilliseconds: true, suppressSeconds: false }),
          detail: `${requested.slice(11)} does not exist on ${requested.slice(0, 10)} in ${zone} (the clocks go forward): this huddle starts at ${placed.toFormat('HH:mm')}`,
        });
      }
      starts.push(instant);
      startDays.push(day);
      if (starts.length > MAX_OCCURRENCES) {
        throw problem('SERIES_TOO_LONG', `A series has at most ${MAX_OCCURRENCES} occurrences: add COUNT or an earlier UNTIL`);
      }
      if (starts.length === rule.count) {
        done = true;
        break;
      }
    }
  }

  const within = `within ${HORIZON_YEARS} years of ${local.toISODate()}`;
  if (starts.length === 0) throw invalidRule(`${rule.text} gives no occurrences ${within}`);
  if (rule.count !== null && starts.length < rule.count) {
    const hint = rule.interval > 1 ? ` (INTERVAL is at most ${MAX_INTERVAL}, and a smaller one fits more)` : '';
    throw problem(
      'SERIES_TOO_LONG',
      `A series ends ${within}: COUNT=${rule.count} asks for more than the ${starts.length} it gives there${hint}`,
    );
  }
  const firstDay = startDays[0]!;
  if (firstDay !== startDay) {
    const requested = localText(startDay, hour, minute);
    adjustments.unshift({
      kind: 'dropped',
      requested,
      startsAt: null,
      detail: `The template start ${requested} is not an occurrence of ${rule.text}: the series starts on ${localText(firstDay, hour, minute)}`,
    });
  }
  const lastStartDay = startDays[startDays.length - 1]!;
  adjustments.push(...skipped.filter((s) => s.day < lastStartDay).map((s) => s.adjustment));
  adjustments.sort((a, b) => (a.requested < b.requested ? -1 : a.requested > b.requested ? 1 : 0));
  return { starts, adjustments, periods };
}
