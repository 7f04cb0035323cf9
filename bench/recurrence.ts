// Times the series expander on the rules of issue 11 that used to hold the event loop, beside rrule.js
// walking the same rule as the old expander did (once: it takes about a second). Not part of npm run bench.
//   npx tsx bench/recurrence.ts
import { performance } from 'node:perf_hooks';
import { DateTime } from 'luxon';
import rrule from 'rrule';
import { expandRule } from '../src/modules/huddles/huddles.recurrence.js';

const { RRule } = rrule;
const zone = 'Europe/London';
const start = DateTime.fromISO('2026-01-06T09:30', { zone });
const rules = [
  'FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=31;UNTIL=20351231',
  'FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30;COUNT=5',
  'FREQ=WEEKLY;BYMONTH=2;BYDAY=SU;BYSETPOS=1;UNTIL=20351231',
  'FREQ=MONTHLY;BYDAY=1TU;COUNT=100',
];

function ours(rule: string): { ms: number; answer: string } {
  const runs = 200;
  let answer = '';
  const began = performance.now();
  for (let i = 0; i < runs; i += 1) {
    try {
      const expansion = expandRule(rule, start, zone);
      answer = `${expansion.starts.length} occurrences, ${expansion.periods} periods`;
    } catch (error) {
      answer = (error as { code: string }).code;
    }
  }
  return { ms: (performance.now() - began) / runs, answer };
}

function theirs(rule: string): number {
  // The old expander: rrule.js with the rule's COUNT or 101, UNTIL checked afterwards.
  const { until: _until, count, ...options } = RRule.parseString(rule.replace(/;UNTIL=\d+/, ''));
  const dtstart = new Date(Date.UTC(start.year, start.month - 1, start.day, start.hour, start.minute));
  const began = performance.now();
  new RRule({ ...options, dtstart, count: count ?? 101 }).all();
  return performance.now() - began;
}

for (const rule of rules) {
  const now = ours(rule);
  const old = theirs(rule).toFixed(1);
  process.stdout.write(`${rule}\n  expandRule ${now.ms.toFixed(3)} ms (${now.answer}); old expander (rrule.js): ${old} ms\n`);
}
