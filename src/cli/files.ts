// Files the command line reads (a members CSV, a newsletter's Markdown): UTF-8 text or a clear refusal.
import { readFileSync } from 'node:fs';
import { strictUtf8 } from '../lib/utf8.js';
import { CliFailure } from './db.js';

/** Where in `bytes` the first sequence that is not UTF-8 is, as "line N". */
function firstBadLine(bytes: Buffer): number {
  let start = 0;
  let line = 1;
  for (let at = bytes.indexOf(10); ; at = bytes.indexOf(10, start)) {
    const end = at === -1 ? bytes.length : at;
    if (strictUtf8(bytes.subarray(start, end)) === null) return line;
    if (at === -1) return line;
    start = at + 1;
    line++;
  }
}

/** The text of `file`; a file that cannot be read, or is not UTF-8 (a spreadsheet's Windows-1252 export), is refused. */
export function readTextFile(file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new CliFailure(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const text = strictUtf8(bytes);
  if (text === null) {
    throw new CliFailure(
      `${file} is not UTF-8 text (line ${firstBadLine(bytes)} is the first with other bytes): save it as UTF-8 ("CSV UTF-8" in a spreadsheet) and run again`,
    );
  }
  return text;
}
