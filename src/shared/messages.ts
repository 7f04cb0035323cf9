// The words of the web pages, in one place (en-GB), so a translation is a new catalogue and no template
// changes. Dates and times are formatted with Intl in the page's locale (see `dates`).

export const LOCALE = 'en-GB';

export const messages = {
  site: 'Convene',
  skipToContent: 'Skip to the content',
  apiDocs: 'API documentation',
  home: {
    title: 'Clusters on this Convene',
    intro: 'Innovation clusters that run their huddles here. Choose one to see its huddles and subscribe.',
    none: 'No cluster has been set up yet.',
  },
  cluster: {
    contact: 'Contact',
    upcoming: 'Upcoming huddles',
    noneUpcoming: 'No huddles are planned yet.',
    noneForTheme: (theme: string): string => `No upcoming huddles on the theme "${theme}".`,
    filterLabel: 'Theme',
    filterAll: 'All themes',
    filterButton: 'Show',
    cancelled: 'Cancelled',
    subscribeHeading: 'Add every huddle to your calendar',
    subscribeIntro: 'Subscribe once and new huddles, changes and cancellations appear by themselves.',
    subscribeApple: 'Apple Calendar or Outlook on this device',
    subscribeGoogle: 'Google Calendar',
    subscribeOutlook: 'Outlook.com or Office 365',
    subscribeIcs: 'Calendar address (.ics) to paste into any calendar app',
    newsletterHeading: 'Newsletter',
    newsletterIntro: 'News from the cluster and invitations to huddles, by email. You confirm by email first.',
  },
  signUp: {
    email: 'Email address',
    name: 'Name (optional)',
    topics: 'What would you like to receive?',
    topicNames: { newsletter: 'The newsletter', 'huddle-invites': 'Invitations to huddles', 'pitch-digest': 'The pitch digest' },
    button: 'Subscribe',
    honeypot: 'Leave this empty',
    sentTitle: 'Check your email',
    sent: (email: string): string =>
      `If ${email} can receive our email, a message with a confirmation button is on its way. Nothing is sent until you confirm.`,
    back: (cluster: string): string => `Back to ${cluster}`,
    invalidEmail: 'Enter an email address, like name@example.org.',
    noTopic: 'Choose at least one.',
    problemTitle: 'Please check the form',
  },
  huddle: {
    when: 'When',
    where: 'Where',
    online: 'Online',
    onlineNote: 'Online too: the link is sent to registered attendees and pitchers.',
    map: 'Map',
    places: 'Places',
    placesLeft: (left: number, capacity: number): string =>
      left > 0 ? `${left} of ${capacity} places left` : `Full (${capacity} places): registering puts you on the waiting list`,
    unlimited: 'No limit on places',
    themes: 'Themes',
    agenda: 'Pitches',
    noAgenda: 'No pitches are booked yet.',
    slot: (n: number): string => `Slot ${n}`,
    addToCalendar: 'Add to your calendar',
    ics: 'Download the calendar entry (.ics)',
    google: 'Add to Google Calendar',
    cancelledNotice: (reason: string): string => `This huddle is cancelled: ${reason}`,
    past: 'This huddle has taken place.',
    actionsHeading: 'Take part',
    actionsSignIn: 'Members of the cluster sign in to book a pitch, join the pitch waitlist or register to attend.',
    signIn: 'Sign in',
    cluster: (name: string): string => `More huddles of ${name}`,
  },
  notFound: {
    title: 'Not found',
    body: 'There is nothing here. The link may be old, or the huddle was removed.',
  },
} as const;

/** Dates and times as people read them, in `zone`: "Tuesday 1 December 2026", "09:30". */
export const dates = {
  day: (at: Date, zone: string) => new Intl.DateTimeFormat(LOCALE, { dateStyle: 'full', timeZone: zone }).format(at),
  time: (at: Date, zone: string) => new Intl.DateTimeFormat(LOCALE, { timeStyle: 'short', timeZone: zone }).format(at),
  /** "GMT", "BST", "GMT+5:30": the zone's name for that instant. */
  zoneName: (at: Date, zone: string) =>
    new Intl.DateTimeFormat(LOCALE, { timeZone: zone, timeZoneName: 'short' })
      .formatToParts(at)
      .find((part) => part.type === 'timeZoneName')?.value ?? zone,
};
