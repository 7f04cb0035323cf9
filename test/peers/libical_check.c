/* Reads an iCalendar document on stdin, parses it with libical (the C reference library) and applies
 * the RFC 5546 restrictions for its METHOD. Prints "ok" or every problem libical found; exit 1 on problems. */
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  size_t cap = 1 << 20, len = 0, n;
  char *text = malloc(cap + 1);
  while ((n = fread(text + len, 1, cap - len, stdin)) > 0) {
    len += n;
    if (len == cap) { cap *= 2; text = realloc(text, cap + 1); }
  }
  text[len] = '\0';
  icalcomponent *calendar = icalparser_parse_string(text);
  if (calendar == NULL) { printf("unparseable\n"); return 1; }
  icalrestriction_check(calendar);
  int problems = 0;
  for (icalcomponent *c = icalcomponent_get_first_component(calendar, ICAL_ANY_COMPONENT); c != NULL;
       c = icalcomponent_get_next_component(calendar, ICAL_ANY_COMPONENT)) {
    for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY); p != NULL;
         p = icalcomponent_get_next_property(c, ICAL_XLICERROR_PROPERTY)) {
      printf("%s\n", icalproperty_get_xlicerror(p));
      problems++;
    }
  }
  for (icalproperty *p = icalcomponent_get_first_property(calendar, ICAL_XLICERROR_PROPERTY); p != NULL;
       p = icalcomponent_get_next_property(calendar, ICAL_XLICERROR_PROPERTY)) {
    printf("%s\n", icalproperty_get_xlicerror(p));
    problems++;
  }
  if (problems == 0) printf("ok\n");
  icalcomponent_free(calendar);
  free(text);
  return problems == 0 ? 0 : 1;
}
