// Real iCalendar parsers for tests: Mozilla's ical.js in process (always), and two independent
// peers from Debian when installed (test/helpers/peers.ts): Python's icalendar library and libical.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ICAL from 'ical.js';
import type { Test } from 'tap';
import { peerTest, systemPython } from './peers.js';

export interface ParsedEvent {
  uid: string;
  summary: string;
  description: string | null;
  location: string | null;
  status: string | null;
  sequence: number;
  start: string;
  end: string;
  stamp: string;
  lastModified: string | null;
  organizer: string | null;
  attendees: string[];
  /** The CN parameters, as ical.js decodes them (RFC 6868). */
  organizerName: string | null;
  attendeeNames: (string | null)[];
}

// Calendar apps read a calendar's NAME (RFC 7986) and X-WR-CALNAME as TEXT; ical.js 2 knows neither and
// would hand their escaped text back as it is, so it is told.
ICAL.design.icalendar.property['name'] = { defaultType: 'text' };
ICAL.design.icalendar.property['x-wr-calname'] = { defaultType: 'text' };

/** Parses with ical.js (throws on malformed input); instants come back as UTC ISO strings. */
export function parseWithIcalJs(text: string): {
  method: string | null;
  name: string | null;
  rfc7986Name: string | null;
  events: ParsedEvent[];
} {
  const calendar = new ICAL.Component(ICAL.parse(text));
  const iso = (value: unknown) => (value ? (value as ICAL.Time).toJSDate().toISOString() : null);
  const events = calendar.getAllSubcomponents('vevent').map((component) => {
    const event = new ICAL.Event(component);
    return {
      uid: event.uid,
      summary: event.summary,
      description: event.description ?? null,
      location: event.location ?? null,
      status: (component.getFirstPropertyValue('status') as string | null) ?? null,
      sequence: event.sequence,
      start: iso(event.startDate)!,
      end: iso(event.endDate)!,
      stamp: iso(component.getFirstPropertyValue('dtstamp'))!,
      lastModified: iso(component.getFirstPropertyValue('last-modified')),
      organizer: (component.getFirstPropertyValue('organizer') as string | null) ?? null,
      attendees: component.getAllProperties('attendee').map((property) => String(property.getFirstValue())),
      organizerName: (component.getFirstProperty('organizer')?.getParameter('cn') as string | undefined) ?? null,
      attendeeNames: component.getAllProperties('attendee').map((property) => (property.getParameter('cn') as string | undefined) ?? null),
    };
  });
  return {
    method: (calendar.getFirstPropertyValue('method') as string | null) ?? null,
    name: (calendar.getFirstPropertyValue('x-wr-calname') as string | null) ?? null,
    rfc7986Name: (calendar.getFirstPropertyValue('name') as string | null) ?? null,
    events,
  };
}

export interface PythonParsed {
  method: string | null;
  name: string | null;
  rfc7986Name: string | null;
  refresh: string | null;
  events: {
    uid: string;
    summary: string;
    status: string | null;
    sequence: number;
    dtstart: string;
    dtend: string;
    organizer: string | null;
    attendees: string[];
    /** The CN parameters as Python's icalendar gives them (4.x does not decode RFC 6868). */
    organizerName: string | null;
    attendeeNames: (string | null)[];
    location: string | null;
    description: string | null;
  }[];
}

/** Parses with Debian's python3-icalendar (the system python, which sees Debian's packages). */
function parseWithPython(text: string): PythonParsed {
  const script = new URL('../peers/icalendar_parse.py', import.meta.url).pathname;
  return JSON.parse(execFileSync(systemPython, [script], { input: text, encoding: 'utf8' })) as PythonParsed;
}

/**
 * The subtest `name`, given the calendar as Python's icalendar parsed it; skipped (or failed, see
 * peers.ts) without python3-icalendar.
 */
export function withPythonParse(t: Test, text: string, name: string, fn: (t: Test, parsed: PythonParsed) => void) {
  return peerTest(t, ['python3-icalendar'], name, (t) => fn(t, parseWithPython(text)));
}

let libicalChecker: string | undefined;

/**
 * Runs libical (the C reference implementation) over a calendar with the RFC 5546 restrictions of
 * its METHOD; returns "ok" or the problems it reports. The small checker is compiled on first use.
 */
function checkWithLibical(text: string): string {
  if (!libicalChecker) {
    const source = new URL('../peers/libical_check.c', import.meta.url).pathname;
    const binary = join(mkdtempSync(join(tmpdir(), 'libical-')), 'check');
    const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'libical'], { encoding: 'utf8' }).trim().split(/\s+/);
    execFileSync('cc', ['-o', binary, source, ...flags]);
    libicalChecker = binary;
  }
  try {
    return execFileSync(libicalChecker, { input: text, encoding: 'utf8' }).trim();
  } catch (error) {
    return String((error as { stdout?: string }).stdout ?? error).trim();
  }
}

let libicalReader: string | undefined;

export interface LibicalRead {
  name: string | null;
  rfc7986Name: string | null;
  events: { summary: string | null; location: string | null; organizerName: string | null; attendeeNames: (string | null)[] }[];
}

/** What libical reads: the calendar's names and each event's texts and CN parameters. */
function readWithLibical(text: string): LibicalRead {
  if (!libicalReader) {
    const source = new URL('../peers/libical_read.c', import.meta.url).pathname;
    const binary = join(mkdtempSync(join(tmpdir(), 'libical-')), 'read');
    const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'libical'], { encoding: 'utf8' }).trim().split(/\s+/);
    execFileSync('cc', ['-o', binary, source, ...flags]);
    libicalReader = binary;
  }
  return JSON.parse(execFileSync(libicalReader, { input: text, encoding: 'utf8' })) as LibicalRead;
}

/** The subtest `name`, given what libical read; skipped (or failed, see peers.ts) without libical. */
export function withLibicalRead(t: Test, text: string, name: string, fn: (t: Test, read: LibicalRead) => void) {
  return peerTest(t, ['libical'], name, (t) => fn(t, readWithLibical(text)));
}

/**
 * The subtest `name`: libical finds the calendar valid under its METHOD's RFC 5546 rules; skipped (or
 * failed, see peers.ts) without libical.
 */
export function libicalAccepts(t: Test, text: string, name: string) {
  return peerTest(t, ['libical'], name, (t) => {
    t.equal(checkWithLibical(text), 'ok', name);
  });
}
