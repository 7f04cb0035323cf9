// CSV for organisers' lists: content negotiation and cells that spreadsheets will not run as formulas.
import { stringify } from 'csv-stringify/sync';

/** True when the client asks for CSV rather than JSON (Accept: text/csv ahead of any JSON type). */
export function wantsCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  const types = accept.split(',').map((part) => part.split(';')[0]!.trim().toLowerCase());
  const csv = types.indexOf('text/csv');
  const json = types.findIndex((type) => type === 'application/json' || type === 'application/*' || type === '*/*');
  return csv !== -1 && (json === -1 || csv < json);
}

/** Spreadsheet apps run cells that start with = + - @ as formulas: prefix them so they stay text. */
export function neutraliseFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

export function toCsv(columns: string[], rows: (string | number | null)[][]): string {
  return stringify(rows, { header: true, columns, cast: { string: neutraliseFormula } });
}

/** The OpenAPI description of a 200 that is JSON, or CSV on request. */
export function jsonOrCsv(schema: unknown, description: string) {
  return { description, content: { 'application/json': { schema }, 'text/csv': { schema: { type: 'string' } } } };
}
