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
    themes: 'Only huddles on these themes (none ticked: all of them)',
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
    otherCluster: (member: string, cluster: string): string =>
      `You are signed in as ${member}, a member of another cluster: only members of ${cluster} book pitches and register here.`,
    cluster: (name: string): string => `More huddles of ${name}`,
  },
  signIn: {
    title: 'Sign in',
    intro: 'Members sign in with a link we email them. It works once, for 15 minutes.',
    email: 'Your email address',
    send: 'Email me a sign-in link',
    sentTitle: 'Check your email',
    sent: 'If this address belongs to a member, a sign-in link is on its way. It works once, for 15 minutes.',
    finishTitle: 'Sign in to Convene',
    finish: 'Press the button to sign in on this browser.',
    button: 'Sign in',
    notYou: 'Did not ask to sign in? Close this page: nothing happens without the button.',
    expiredTitle: 'This sign-in link no longer works',
    expired: 'It was used already, or it has expired (sign-in links last 15 minutes). Ask for a new one:',
    invalidEmail: 'Enter an email address, like name@example.org.',
    signedOut: 'You are signed out.',
  },
  me: {
    title: 'My huddles',
    hello: (name: string, organisation: string, cluster: string): string => `${name}, ${organisation}, member of ${cluster}.`,
    pitches: 'My pitches',
    noPitches: 'No pitches to come. Book one from a huddle’s page.',
    pitchLine: (title: string, status: string): string => `“${title}” (${status})`,
    canCancelUntil: (when: string): string => `You can cancel it yourself until ${when}.`,
    tooLate: (contact: string): string => `It is too late to cancel it here: write to the organisers at ${contact}.`,
    cancelPitch: 'Cancel this pitch',
    attending: 'Huddles I attend',
    noAttending: 'You have not registered for a huddle to come.',
    waitingPosition: (n: number): string => `On the waiting list, number ${n}`,
    cancelRegistration: 'Cancel my place',
    waitlist: 'Pitch waitlists',
    offer: (slot: string, until: string): string => `A slot is free for you: ${slot}. The offer holds until ${until}.`,
    place: (n: number): string => `Waiting, number ${n} in line`,
    accept: 'Take the slot',
    decline: 'Decline',
    calendar: 'My private calendar',
    calendarIntro: 'The huddles you attend and your pitch slots, with their online links. Anyone with the address can read it.',
    subscribe: 'Subscribe in your calendar app',
    google: 'Add to Google Calendar',
    rotateIntro: 'If someone else has the address, make a new one: the old one stops working, and you subscribe again.',
    rotate: 'Make a new calendar address',
    sessions: 'Where I am signed in',
    thisBrowser: 'this browser',
    started: (when: string, browser: string): string => `Since ${when}, ${browser}`,
    endSession: 'Sign out there',
    signOut: 'Sign out',
    done: {
      booked: 'Your pitch is booked. A confirmation with a calendar entry is on its way by email.',
      pending: 'Your pitch is waiting for the organisers’ approval. We will email you.',
      cancelled: 'Cancelled. An email confirms it and removes it from your calendar.',
      registered: 'You have a place. A calendar invitation is on its way by email.',
      waitlisted: 'The huddle is full: you are on the waiting list, and we email you if a place frees.',
      joined: 'You are on the pitch waitlist. We email you when a slot frees.',
      accepted: 'The slot is yours. A confirmation is on its way by email.',
      declined: 'Declined: the slot goes to the next in line.',
      ended: 'That session is signed out.',
      rotated: 'Your calendar has a new address: subscribe to it again; the old one no longer works.',
    },
  },
  book: {
    heading: 'Book a pitch',
    title: 'Pitch title',
    summary: 'Summary (optional)',
    slot: 'Slot',
    firstFree: 'The first free slot',
    button: 'Book this slot',
    waitlistHeading: 'Join the pitch waitlist',
    waitlistIntro: 'Every slot is booked. Join the waitlist and we email you an offer when one frees.',
    waitlistButton: 'Join the waitlist',
    register: 'Register to attend',
    registered: 'You are registered for this huddle.',
    signedInAs: (name: string): string => `Signed in as ${name}.`,
    titleMissing: 'Give your pitch a title.',
    expired: 'This form has expired: please send it again.',
  },
  notFound: {
    title: 'Not found',
    body: 'There is nothing here. The link may be old, or the huddle was removed.',
  },
} as const;

// Making an Intl.DateTimeFormat costs far more than using one (a cluster page of 50 huddles spent most
// of its time making them), so each is made once per kind and zone.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(kind: 'day' | 'time' | 'zone', zone: string): Intl.DateTimeFormat {
  const key = `${kind} ${zone}`;
  let made = formatters.get(key);
  if (!made) {
    const options: Intl.DateTimeFormatOptions =
      kind === 'day' ? { dateStyle: 'full' } : kind === 'time' ? { timeStyle: 'short' } : { timeZoneName: 'short' };
    made = new Intl.DateTimeFormat(LOCALE, { ...options, timeZone: zone });
    formatters.set(key, made);
  }
  return made;
}

/** Dates and times as people read them, in `zone`: "Tuesday 1 December 2026", "09:30". */
export const dates = {
  day: (at: Date, zone: string) => formatter('day', zone).format(at),
  time: (at: Date, zone: string) => formatter('time', zone).format(at),
  /** "GMT", "BST", "GMT+5:30": the zone's name for that instant. */
  zoneName: (at: Date, zone: string) =>
    formatter('zone', zone)
      .formatToParts(at)
      .find((part) => part.type === 'timeZoneName')?.value ?? zone,
};
