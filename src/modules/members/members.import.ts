// Reads a members CSV (pure): a header row naming email, name, organisation and organisation type,
// then one member a row. Every row that cannot be a member is reported with its line and reason.
import { parse } from 'csv-parse/sync';
import { ORGANISATION_TYPES, type OrganisationType } from '../../db/schema.js';
import { cleanName, isEmailAddress, normaliseEmail } from '../../lib/text.js';
import type { CsvRejection, CsvRow, NewMember } from './members.types.js';

export type { CsvRejection, CsvRow };

export const MAX_IMPORT_ROWS = 10_000;
const REQUIRED = ['email', 'name', 'organisation', 'organisationtype'] as const;

/** "Organisation Type", "organisation_type" and "organisationType" all name the same column. */
function columnKey(header: string): string {
  return header
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '');
}

/** Checks one record's fields; returns the member or why it cannot be one. */
export function checkRecord(record: Record<string, string | undefined>): NewMember | string {
  const email = normaliseEmail(record.email ?? '');
  if (!isEmailAddress(email)) return `"${record.email ?? ''}" is not an email address`;
  const name = cleanName(record.name ?? '');
  if (!name) return 'name must be 1-200 characters on one line';
  const organisation = cleanName(record.organisation ?? '');
  if (!organisation) return 'organisation must be 1-200 characters on one line';
  const type = (record.organisationtype ?? '').trim().toLowerCase();
  if (!(ORGANISATION_TYPES as readonly string[]).includes(type)) {
    return `organisation type "${record.organisationtype ?? ''}" is not one of ${ORGANISATION_TYPES.join(', ')}`;
  }
  return { email, name, organisation, organisationType: type as OrganisationType };
}

export function parseMembersCsv(text: string): { rows: CsvRow[]; rejected: CsvRejection[]; error?: string } {
  const rejected: CsvRejection[] = [];
  let columns: string[] = [];
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      info: true,
      columns: (header: string[]) => (columns = header.map(columnKey)),
      skip_records_with_error: true,
      on_skip: (error: { code?: string; message: string; lines?: number } | undefined) => {
        // An unclosed quote swallows the rest of the file: that is a broken file, not one bad row.
        if (error?.code === 'CSV_QUOTE_NOT_CLOSED') throw Object.assign(new Error(error.message), { code: error.code });
        rejected.push({ line: error?.lines ?? 0, reason: error?.message.replace(/^Invalid Record Length: /, '') ?? 'unreadable row' });
      },
    }) as typeof records;
  } catch (error) {
    return { rows: [], rejected, error: `the file is not readable CSV: ${(error as Error).message}` };
  }
  const repeated = columns.filter((name, index) => name !== '' && columns.indexOf(name) !== index);
  if (repeated.length > 0) return { rows: [], rejected, error: `the header row names ${[...new Set(repeated)].join(', ')} more than once` };
  const missing = REQUIRED.filter((name) => !columns.includes(name));
  if (columns.length === 0)
    return { rows: [], rejected, error: 'the file is empty: it needs a header row (email,name,organisation,organisation_type)' };
  if (missing.length > 0)
    return { rows: [], rejected, error: `the header row lacks ${missing.join(', ')} (expected email,name,organisation,organisation_type)` };
  if (records.length > MAX_IMPORT_ROWS)
    return { rows: [], rejected, error: `the file has ${records.length} rows; import at most ${MAX_IMPORT_ROWS} at a time` };

  const rows: CsvRow[] = [];
  const seen = new Map<string, number>();
  for (const { record, info } of records) {
    const checked = checkRecord(record);
    if (typeof checked === 'string') {
      rejected.push({ line: info.lines, ...(record.email ? { email: record.email } : {}), reason: checked });
      continue;
    }
    const first = seen.get(checked.email);
    if (first !== undefined) {
      rejected.push({ line: info.lines, email: checked.email, reason: `same address as line ${first}` });
      continue;
    }
    seen.set(checked.email, info.lines);
    rows.push({ line: info.lines, member: checked });
  }
  rejected.sort((a, b) => a.line - b.line);
  return { rows, rejected };
}
