// How emails and pages say when a huddle or slot is: the wording made with one Intl formatter per zone
// must read exactly as luxon's toFormat made it before (the same words in every email and page), in
// zones with and without summer time, half- and quarter-hour offsets, across clock changes and midnight.
import t from 'tap';
import { DateTime } from 'luxon';
import { slotText, whenText } from '../src/shared/huddle-text.js';

function luxonWhen(startsAt: Date, endsAt: Date, zone: string): string {
  const start = DateTime.fromJSDate(startsAt, { zone }).setLocale('en-GB');
  const end = DateTime.fromJSDate(endsAt, { zone }).setLocale('en-GB');
  const endText = start.hasSame(end, 'day') ? end.toFormat('HH:mm') : end.toFormat('cccc d LLLL yyyy, HH:mm');
  return `${start.toFormat('cccc d LLLL yyyy, HH:mm')}–${endText} (${zone}, ${start.offsetNameShort ?? start.toFormat('ZZ')})`;
}

function luxonSlot(startsAt: Date, endsAt: Date, zone: string): string {
  const start = DateTime.fromJSDate(startsAt, { zone }).setLocale('en-GB');
  const end = DateTime.fromJSDate(endsAt, { zone }).setLocale('en-GB');
  return `${start.toFormat('HH:mm')}–${end.toFormat('HH:mm')} (${zone}, ${start.offsetNameShort ?? start.toFormat('ZZ')}) on ${start.toFormat('cccc d LLLL yyyy')}`;
}

const zones = [
  'Europe/London',
  'Europe/Dublin',
  'Europe/Berlin',
  'America/New_York',
  'America/St_Johns',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'Pacific/Kiritimati',
  'UTC',
  'Etc/GMT+5',
];

t.test('the wording matches luxon for every zone, every month, both sides of midnight and across clock changes', async (t) => {
  let compared = 0;
  const mismatches: string[] = [];
  for (const zone of zones) {
    for (let month = 0; month < 12; month++) {
      // Hours spread over the day, including ones that cross local midnight or a clock change.
      for (const hour of [0, 1, 2, 9, 13, 22, 23]) {
        const startsAt = new Date(Date.UTC(2026, month, 1 + ((month * 7) % 27), hour, (hour * 13) % 60));
        for (const minutes of [5, 45, 120, 26 * 60]) {
          const endsAt = new Date(startsAt.getTime() + minutes * 60_000);
          compared += 2;
          const when = whenText({ startsAt, endsAt, timezone: zone });
          const slot = slotText({ startsAt, endsAt }, zone);
          if (when !== luxonWhen(startsAt, endsAt, zone)) mismatches.push(`${when} ≠ ${luxonWhen(startsAt, endsAt, zone)}`);
          if (slot !== luxonSlot(startsAt, endsAt, zone)) mismatches.push(`${slot} ≠ ${luxonSlot(startsAt, endsAt, zone)}`);
        }
      }
    }
  }
  // The nights the clocks change in London (29 March and 25 October 2026), minute by minute around them.
  for (const night of [Date.UTC(2026, 2, 29, 0), Date.UTC(2026, 9, 25, 0)]) {
    for (let m = 0; m < 180; m += 15) {
      const startsAt = new Date(night + m * 60_000);
      const endsAt = new Date(startsAt.getTime() + 30 * 60_000);
      compared += 1;
      const when = whenText({ startsAt, endsAt, timezone: 'Europe/London' });
      if (when !== luxonWhen(startsAt, endsAt, 'Europe/London'))
        mismatches.push(`${when} ≠ ${luxonWhen(startsAt, endsAt, 'Europe/London')}`);
    }
  }
  t.same(mismatches, [], `${compared} sentences compared`);
  t.ok(compared > 4000);
});

t.test('examples read as a person expects', async (t) => {
  t.equal(
    whenText({ startsAt: new Date('2026-12-01T09:30:00Z'), endsAt: new Date('2026-12-01T11:30:00Z'), timezone: 'Europe/London' }),
    'Tuesday 1 December 2026, 09:30–11:30 (Europe/London, GMT)',
  );
  t.equal(
    whenText({ startsAt: new Date('2026-07-01T22:00:00Z'), endsAt: new Date('2026-07-01T23:30:00Z'), timezone: 'Europe/London' }),
    'Wednesday 1 July 2026, 23:00–Thursday 2 July 2026, 00:30 (Europe/London, BST)',
  );
  t.equal(
    slotText({ startsAt: new Date('2026-03-29T00:40:00Z'), endsAt: new Date('2026-03-29T01:05:00Z') }, 'Europe/London'),
    '00:40–02:05 (Europe/London, GMT) on Sunday 29 March 2026',
  );
});
