// The addresses of a calendar: https, webcal:// (what calendar apps subscribe to) and Google's "add by URL".
export function calendarLinks(httpsUrl: string) {
  const webcal = httpsUrl.replace(/^https?:\/\//, 'webcal://');
  return { ics: httpsUrl, webcal, google: `https://calendar.google.com/calendar/r?cid=${encodeURIComponent(webcal)}` };
}

export function clusterCalendarUrl(baseUrl: string, slug: string): string {
  return `${baseUrl}/v1/clusters/${slug}/calendar.ics`;
}

/** A huddle's web page: what emails and calendar entries link to. */
export function huddlePageUrl(baseUrl: string, id: string): string {
  return `${baseUrl}/h/${id}`;
}

export function huddleCalendarUrl(baseUrl: string, id: string): string {
  return `${baseUrl}/v1/huddles/${id}/calendar.ics`;
}

/** A member's private feed; the token in it is the only credential, so it is never logged or shown publicly. */
export function memberCalendarUrl(baseUrl: string, feedToken: string): string {
  return `${baseUrl}/v1/feeds/${feedToken}/calendar.ics`;
}
