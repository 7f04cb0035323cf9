/* Reads an iCalendar document on stdin with libical (the C reference library) and prints, as JSON, what
 * it understood of the texts a person sees: the calendar's names, and each event's summary, location and
 * the CN of its organiser and attendees (libical decodes RFC 6868 in parameters). */
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void json_string(const char *s) {
  if (s == NULL) { printf("null"); return; }
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if (*p < 0x20) printf("\\u%04x", *p);
    else putchar(*p);
  }
  putchar('"');
}

static const char *cn_of(icalproperty *p) {
  icalparameter *cn = p ? icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER) : NULL;
  return cn ? icalparameter_get_cn(cn) : NULL;
}

static const char *x_value(icalcomponent *c, const char *name) {
  for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY); p != NULL;
       p = icalcomponent_get_next_property(c, ICAL_X_PROPERTY))
    if (strcmp(icalproperty_get_x_name(p), name) == 0) return icalproperty_get_x(p);
  return NULL;
}

int main(void) {
  size_t cap = 1 << 20, len = 0, n;
  char *text = malloc(cap + 1);
  while ((n = fread(text + len, 1, cap - len, stdin)) > 0) {
    len += n;
    if (len == cap) { cap *= 2; text = realloc(text, cap + 1); }
  }
  text[len] = '\0';
  icalcomponent *calendar = icalparser_parse_string(text);
  if (calendar == NULL) { printf("null\n"); return 1; }
  icalproperty *name = icalcomponent_get_first_property(calendar, ICAL_NAME_PROPERTY);
  printf("{\"name\":");
  json_string(x_value(calendar, "X-WR-CALNAME"));
  printf(",\"rfc7986Name\":");
  json_string(name ? icalproperty_get_name(name) : NULL);
  printf(",\"events\":[");
  int first = 1;
  for (icalcomponent *e = icalcomponent_get_first_component(calendar, ICAL_VEVENT_COMPONENT); e != NULL;
       e = icalcomponent_get_next_component(calendar, ICAL_VEVENT_COMPONENT)) {
    printf("%s{\"summary\":", first ? "" : ",");
    first = 0;
    json_string(icalcomponent_get_summary(e));
    printf(",\"location\":");
    json_string(icalcomponent_get_location(e));
    printf(",\"organizerName\":");
    json_string(cn_of(icalcomponent_get_first_property(e, ICAL_ORGANIZER_PROPERTY)));
    printf(",\"attendeeNames\":[");
    int firstAttendee = 1;
    for (icalproperty *a = icalcomponent_get_first_property(e, ICAL_ATTENDEE_PROPERTY); a != NULL;
         a = icalcomponent_get_next_property(e, ICAL_ATTENDEE_PROPERTY)) {
      printf("%s", firstAttendee ? "" : ",");
      firstAttendee = 0;
      json_string(cn_of(a));
    }
    printf("]}");
  }
  printf("]}\n");
  icalcomponent_free(calendar);
  free(text);
  return 0;
}
