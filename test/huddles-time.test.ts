// zoned() builds its ISO strings itself (for speed); they must be exactly what luxon writes, in every zone.
import fc from 'fast-check';
import { DateTime } from 'luxon';
import t from 'tap';
import { zoned } from '../src/modules/huddles/huddles.time.js';

function byLuxon(ms: number, zone: string) {
  const at = DateTime.fromMillis(ms, { zone: 'utc' });
  return { utc: at.toISO({ suppressMilliseconds: true }), local: at.setZone(zone).toISO({ suppressMilliseconds: true }), timezone: zone };
}

const zones = [...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC', 'Etc/GMT+5', 'Europe/London'];

t.test('zoned() writes what luxon writes, for every zone, instants from 1900 to 2100', async (t) => {
  const property = fc.property(
    fc.constantFrom(...zones),
    fc.integer({ min: -2_208_988_800_000, max: 4_102_444_800_000 }),
    fc.boolean(),
    (zone, ms, wholeMinute) => {
      const instant = wholeMinute ? ms - (ms % 60_000) : ms;
      return JSON.stringify(zoned(instant, zone)) === JSON.stringify(byLuxon(instant, zone));
    },
  );
  const outcome = fc.check(property, { numRuns: 5000, seed: 20261123 });
  t.equal(outcome.failed, false, outcome.counterexample ? `counterexample ${JSON.stringify(outcome.counterexample)}` : '5,000 cases agree');
});

t.test('zoned() around the clock changes', async (t) => {
  t.same(zoned(Date.parse('2026-10-25T00:30:00Z'), 'Europe/London').local, '2026-10-25T01:30:00+01:00');
  t.same(zoned(Date.parse('2026-10-25T01:30:00Z'), 'Europe/London').local, '2026-10-25T01:30:00+00:00');
  t.same(zoned(Date.parse('2026-03-29T01:00:00Z'), 'Europe/London').local, '2026-03-29T02:00:00+01:00');
  t.same(zoned(Date.parse('2026-12-01T09:30:00.250Z'), 'Asia/Kolkata'), {
    utc: '2026-12-01T09:30:00.250Z',
    local: '2026-12-01T15:00:00.250+05:30',
    timezone: 'Asia/Kolkata',
  });
});
