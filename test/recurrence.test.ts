// The recurrence expander, a pure core: it agrees with rrule.js (a second, independent reading of
// RFC 5545) on every rule both accept, and looks at a bounded number of periods whatever the rule.
import fc from 'fast-check';
import { DateTime } from 'luxon';
import rrule from 'rrule';
import t from 'tap';
import { expandRule, HORIZON_YEARS, MAX_PERIODS } from '../src/modules/huddles/huddles.recurrence.js';

const { RRule } = rrule;
const DAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];

/** rrule.js's occurrences of a rule with COUNT, as local wall-clock text (floating, as the series reads them). */
function oracle(rule: string, start: DateTime): string[] {
  const dtstart = new Date(Date.UTC(start.year, start.month - 1, start.day, start.hour, start.minute));
  return new RRule({ ...RRule.parseString(rule), dtstart }).all().map((d) => d.toISOString().slice(0, 16));
}

const ruleArbitrary = fc
  .record({
    freq: fc.constantFrom('WEEKLY', 'MONTHLY'),
    interval: fc.integer({ min: 1, max: 4 }),
    count: fc.integer({ min: 1, max: 30 }),
    byDay: fc.uniqueArray(fc.constantFrom(...DAYS), { maxLength: 3 }),
    ordinal: fc.option(fc.constantFrom(1, 2, 3, 4, -1, -2)),
    byMonthDay: fc.uniqueArray(fc.constantFrom(1, 2, 13, 15, 28, 29, 30, 31, -1, -2), { maxLength: 2 }),
    byMonth: fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { maxLength: 3 }),
    bySetPos: fc.option(fc.constantFrom(1, 2, -1)),
    wkst: fc.option(fc.constantFrom(...DAYS)),
  })
  .map((r) => {
    const parts = [`FREQ=${r.freq}`];
    if (r.interval > 1) parts.push(`INTERVAL=${r.interval}`);
    const ordinal = r.freq === 'MONTHLY' && r.ordinal !== null ? String(r.ordinal) : '';
    if (r.byDay.length > 0) parts.push(`BYDAY=${r.byDay.map((d) => ordinal + d).join(',')}`);
    if (r.freq === 'MONTHLY' && r.byMonthDay.length > 0) parts.push(`BYMONTHDAY=${r.byMonthDay.join(',')}`);
    if (r.byMonth.length > 0) parts.push(`BYMONTH=${r.byMonth.join(',')}`);
    if (r.bySetPos !== null && parts.length > (r.interval > 1 ? 2 : 1)) parts.push(`BYSETPOS=${r.bySetPos}`);
    if (r.wkst !== null) parts.push(`WKST=${r.wkst}`);
    parts.push(`COUNT=${r.count}`);
    return parts.join(';');
  });

const startArbitrary = fc
  .record({ year: fc.integer({ min: 2026, max: 2030 }), ordinal: fc.integer({ min: 1, max: 365 }), hour: fc.integer({ min: 0, max: 23 }) })
  .map(({ year, ordinal, hour }) => DateTime.fromObject({ year, ordinal, hour, minute: 30 }, { zone: 'UTC' }));

t.test('the expander agrees with rrule.js on every rule it accepts', async (t) => {
  let compared = 0;
  fc.assert(
    fc.property(ruleArbitrary, startArbitrary, (rule, start) => {
      let expansion;
      try {
        expansion = expandRule(rule, start, 'UTC');
      } catch (error) {
        // Refused: no occurrence, or COUNT not reached, within the horizon. rrule.js would walk on to the year 9999.
        const code = (error as { code?: string }).code;
        if (code !== 'INVALID_RECURRENCE' && code !== 'SERIES_TOO_LONG') throw error;
        return;
      }
      compared += 1;
      if (expansion.periods > MAX_PERIODS) throw new Error(`${rule}: ${expansion.periods} periods`);
      const ours = expansion.starts.map((s) => s.toISO()!.slice(0, 16));
      const theirs = oracle(rule, start);
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
        throw new Error(`${rule} from ${start.toISO()}: ours ${ours.join(' ')}; rrule.js ${theirs.join(' ')}`);
      }
      const dropped = expansion.adjustments.some((a) => a.requested === start.toISO()!.slice(0, 16));
      if (dropped !== (theirs[0] !== start.toISO()!.slice(0, 16))) throw new Error(`${rule}: the dropped start is not reported`);
    }),
    { numRuns: 400, seed: 20261123 },
  );
  t.ok(compared > 100, `${compared} rules compared`);
});

t.test('any rule is expanded within a bounded number of periods', async (t) => {
  const start = DateTime.fromISO('2026-01-06T09:30', { zone: 'Europe/London' });
  t.equal(MAX_PERIODS, Math.ceil((HORIZON_YEARS * 366) / 7) + 1, 'every week of ten years, once');
  // Sparse rules that run to the horizon: each period is looked at once, never more.
  const weekly = expandRule('FREQ=WEEKLY;BYMONTH=2;BYDAY=SU;BYSETPOS=1;UNTIL=20351231', start, 'Europe/London');
  t.equal(weekly.starts.length, 41, 'every Sunday in February, 2026 to 2035');
  t.equal(weekly.periods, 522, 'every week from 5 January 2026 to 31 December 2035, once');
  t.ok(weekly.periods <= MAX_PERIODS);
  const leap = expandRule('FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=29;UNTIL=20351231', start, 'Europe/London');
  t.same(
    leap.starts.map((s) => s.toISODate()),
    ['2028-02-29', '2032-02-29'],
  );
  t.equal(leap.periods, 120, 'every month from January 2026 to December 2035, once');
  // Rules that never occur are refused after the horizon, not at the year 9999.
  t.throws(() => expandRule('FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30;COUNT=1', start, 'Europe/London'), { code: 'INVALID_RECURRENCE' });
  t.throws(() => expandRule('FREQ=WEEKLY;INTERVAL=2147483647;COUNT=3', start, 'Europe/London'), { code: 'INVALID_RECURRENCE' });

  // UNTIL as a UTC date-time includes an occurrence at exactly that instant, and not one after.
  const until = expandRule('FREQ=WEEKLY;UNTIL=20260120T093000Z', start, 'Europe/London');
  t.same(
    until.starts.map((s) => s.toISO()),
    ['2026-01-06T09:30:00.000Z', '2026-01-13T09:30:00.000Z', '2026-01-20T09:30:00.000Z'],
  );
  t.equal(expandRule('FREQ=WEEKLY;UNTIL=20260120T092959Z', start, 'Europe/London').starts.length, 2);
});
