// The impact report as CSV (pure): one figure a row (section, item, value), so a spreadsheet sums and
// charts it as it is; the same for the API's Accept: text/csv and the console's download.
import { ORGANISATION_TYPES } from '../../db/schema.js';
import { toCsv } from '../../lib/csv.js';
import type { ImpactReport } from './reports.service.js';

export function reportCsv(report: ImpactReport): string {
  const rows: (string | number)[][] = [
    ['range', 'from', report.from],
    ['range', 'to', report.to],
    ['range', 'timezone', report.timezone],
    ['huddles', 'held', report.huddles],
    ['organisations', 'engaged', report.organisations.engaged],
    ...ORGANISATION_TYPES.map((type) => ['organisations by type', type, report.organisations.byType[type]]),
    ['organisations', 'first-time pitchers', report.firstTimePitchers],
    ['pitches', 'confirmed', report.pitches.confirmed],
    ...report.pitches.byTheme.map(({ theme, count }) => ['pitches by theme', theme ?? '(no theme)', count]),
    ['attendance', 'registered', report.attendance.registered],
    ['attendance', 'attended', report.attendance.attended],
    ['attendance', 'registered and attended', report.attendance.registeredAttended],
    ['attendance', 'no-shows', report.attendance.noShows],
    ['attendance', 'attended without registering', report.attendance.unregisteredAttended],
    ['attendance', 'people who came', report.attendance.people],
    ['attendance', 'people who came more than once', report.attendance.repeatPeople],
    ...report.perHuddle.flatMap((huddle) => [
      [`huddle ${huddle.start} ${huddle.title}`, 'registered', huddle.registered],
      [`huddle ${huddle.start} ${huddle.title}`, 'attended', huddle.attended],
      [`huddle ${huddle.start} ${huddle.title}`, 'pitches', huddle.pitches],
    ]),
  ];
  return toCsv(['section', 'item', 'value'], rows);
}
