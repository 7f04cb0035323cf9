#!/usr/bin/python3
# Parses an iCalendar document from stdin with the Python icalendar library (an independent
# implementation from ical.js) and prints what it understood as JSON, for the tests to compare.
import json
import sys

from icalendar import Calendar

calendar = Calendar.from_ical(sys.stdin.buffer.read())
events = []
for component in calendar.walk('VEVENT'):
    def text(name):
        value = component.get(name)
        return None if value is None else str(value)
    def instant(name):
        value = component.get(name)
        return None if value is None else value.dt.isoformat()
    attendees = component.get('ATTENDEE')
    if attendees is not None and not isinstance(attendees, list):
        attendees = [attendees]
    events.append({
        'uid': text('UID'),
        'summary': text('SUMMARY'),
        'description': text('DESCRIPTION'),
        'location': text('LOCATION'),
        'status': text('STATUS'),
        'sequence': int(component.get('SEQUENCE', 0)),
        'dtstart': instant('DTSTART'),
        'dtend': instant('DTEND'),
        'dtstamp': instant('DTSTAMP'),
        'lastModified': instant('LAST-MODIFIED'),
        'organizer': text('ORGANIZER'),
        'attendees': [str(a) for a in (attendees or [])],
        'organizerName': None if component.get('ORGANIZER') is None else component.get('ORGANIZER').params.get('CN'),
        'attendeeNames': [a.params.get('CN') for a in (attendees or [])],
    })
print(json.dumps({
    'method': None if calendar.get('METHOD') is None else str(calendar.get('METHOD')),
    'name': None if calendar.get('X-WR-CALNAME') is None else str(calendar.get('X-WR-CALNAME')),
    'rfc7986Name': None if calendar.get('NAME') is None else str(calendar.get('NAME')),
    'refresh': None if calendar.get('REFRESH-INTERVAL') is None else calendar.get('REFRESH-INTERVAL').to_ical().decode(),
    'events': events,
}))
