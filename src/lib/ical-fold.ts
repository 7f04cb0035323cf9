// RFC 5545 section 3.1 line folding: a content line longer than 75 octets continues on the next line
// after CRLF and one space, never splitting a UTF-8 character. This folds exactly as ical-generator's
// foldLines does (74 octets, then the space and 74 more), so calendars are byte-for-byte what they were;
// ical-generator's version builds a TextEncoder for every character, which dominated a feed's render
// time (bench/FINDINGS.md).
const LIMIT = 74;

function utf8Length(codePoint: number): number {
  return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
}

function foldLine(line: string): string {
  // Short ASCII-only lines (most of them) need no work.
  if (line.length <= LIMIT && !/[^\x00-\x7f]/.test(line)) return line;
  let folded = '';
  let octets = 0;
  for (const char of line) {
    const size = utf8Length(char.codePointAt(0)!);
    octets += size;
    if (octets > LIMIT) {
      folded += '\r\n ';
      octets = size;
    }
    folded += char;
  }
  return folded;
}

export function foldLines(text: string): string {
  return text.split('\r\n').map(foldLine).join('\r\n');
}
