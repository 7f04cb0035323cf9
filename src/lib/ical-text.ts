// How user text goes into iCalendar (pure): TEXT values escaped as RFC 5545 section 3.3.11 says, and
// parameter values (a CN) encoded as RFC 6868 says, since RFC 5545 has no escape inside a quoted
// parameter. ical-generator writes a calendar's NAME and X-WR-CALNAME as they are, and escapes a CN
// with backslashes, which ical.js, libical and Python's icalendar all misread: so these go through here.

/** Control characters that neither a TEXT value nor a parameter value may hold (tab and line ends aside). */
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;
const LINE_END = /\r\n|\r|\n/g;

/** A TEXT value: backslash, semicolon and comma escaped, line ends as \n, control characters dropped. */
export function textValue(value: string): string {
  return value
    .replace(CONTROL, '')
    .replace(/[\\;,]/g, (char) => '\\' + char)
    .replace(LINE_END, '\\n');
}

/** A quoted parameter value: ^ as ^^, line ends as ^n, " as ^' (RFC 6868), control characters dropped. */
export function paramValue(value: string): string {
  const encoded = value.replace(CONTROL, '').replace(/\^/g, '^^').replace(LINE_END, '^n').replace(/"/g, "^'");
  return `"${encoded}"`;
}

export interface CalendarPerson {
  email: string;
  name?: string | null;
}

/** An ORGANIZER or ATTENDEE content line (unfolded), with its parameters before the CN. */
export function personLine(property: 'ORGANIZER' | 'ATTENDEE', person: CalendarPerson, parameters: string[] = []): string {
  const name = person.name?.trim() ? [`CN=${paramValue(person.name.trim())}`] : [];
  return [property, ...parameters, ...name].join(';') + `:mailto:${person.email}`;
}
