// The words of the web pages, in one place (en-GB), so a translation is a new catalogue and no template
// changes. Dates and times are formatted with Intl in the page's locale (see `dates`).

export const LOCALE = 'en-GB';

export const messages = {
  site: 'Convene',
  skipToContent: 'Skip to the content',
  apiDocs: 'API documentation',
  /** The newsletter's topics, as a person reads them. */
  topicNames: { newsletter: 'The newsletter', 'huddle-invites': 'Invitations to huddles', 'pitch-digest': 'The pitch digest' },
  /** The same inside a sentence: "You receive the newsletter and invitations to huddles". */
  topicPhrases: { newsletter: 'the newsletter', 'huddle-invites': 'invitations to huddles', 'pitch-digest': 'the pitch digest' },
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
    organisersOf: (cluster: string): string => `the organisers of ${cluster}`,
    cancelPitch: 'Cancel this pitch',
    attending: 'Huddles I attend',
    noAttending: 'You have not registered for a huddle to come.',
    waitingPosition: (n: number): string => `On the waiting list, number ${n}`,
    cancelRegistration: 'Cancel my place',
    waitlist: 'Pitch waitlists',
    noWaitlist:
      'Your organisation is not waiting for a pitch slot. When every slot of a huddle is booked, join its waitlist from its page.',
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
    theme: 'Theme of your pitch',
    noTheme: 'No particular theme',
    shareContact: 'After the huddle, the follow-up newsletter may give my email address to people who want to get in touch',
    button: 'Book this slot',
    waitlistHeading: 'Join the pitch waitlist',
    waitlistIntro: 'Every slot is booked. Join the waitlist and we email you an offer when one frees.',
    waitlistButton: 'Join the waitlist',
    register: 'Register to attend',
    registered: 'You are registered for this huddle.',
    signedInAs: (name: string): string => `Signed in as ${name}.`,
    closesOn: (when: string): string => `Booking for pitches closes on ${when}.`,
    opensOn: (when: string): string => `Booking for pitches opens on ${when}.`,
    closedOn: (when: string): string => `Booking for pitches closed on ${when}.`,
    yourPitch: (title: string, status: string): string => `Your pitch here: “${title}” (${status}).`,
    seeInMe: 'See it or cancel it in My huddles',
    onWaitlist: 'Your organisation is on the pitch waitlist: we email you when a slot frees.',
    titleMissing: 'Give your pitch a title.',
    expired: 'This form has expired: please send it again.',
  },
  links: {
    notAllowedTitle: 'Not allowed from another site',
    notAllowed: 'This form only works on the page Convene showed you. Open the link from your email again.',
    brokenTitle: 'This link does not work',
    tooManyTitle: 'Too many links that do not work',
    tryAgainIn: (seconds: number): string => `Try again in ${seconds} s.`,
    failedTitle: 'That did not work',
  },
  subscription: {
    brokenLink:
      'The link is not complete, or not one of ours, or the subscription no longer exists. Use the link in your most recent ' +
      'email from us.',
    subscribedTitle: 'You are subscribed',
    receiving: (topics: string, cluster: string): string => `You receive ${topics} from ${cluster}.`,
    thankYou: (topics: string, cluster: string): string => `Thank you: you will receive ${topics} from ${cluster}.`,
    choose: 'Choose what you receive',
    expiredTitle: 'This link has expired',
    expired: 'Sign up again to get a new one.',
    confirmTitle: (cluster: string): string => `Confirm your subscription to ${cluster}`,
    asked: (topics: string, email: string): string => `You asked to receive ${topics} at ${email}.`,
    confirmButton: 'Confirm my subscription',
    unsubscribedTitle: 'You are unsubscribed',
    nothingMore: (email: string, cluster: string): string => `${email} receives nothing more from ${cluster}.`,
    mistake: 'If this was a mistake, sign up again on the cluster’s website.',
    unsubscribeTitle: (cluster: string): string => `Unsubscribe from ${cluster}`,
    stopAll: (cluster: string, email: string): string => `Stop all emails from ${cluster} to ${email}?`,
    unsubscribeButton: 'Unsubscribe',
    preferencesTitle: (cluster: string): string => `Your ${cluster} emails`,
    whatYouReceive: 'What you receive',
    onlyThemes: 'Only these themes (none ticked: all of them)',
    save: 'Save',
    untickAll: 'Untick everything to stop all emails.',
    confirmFirstTitle: 'Please confirm first',
    confirmFirst: 'Use the confirmation link we emailed you; then you can choose what you receive.',
    savedTitle: 'Preferences saved',
    saved: (topics: string): string => `Saved: you receive ${topics}.`,
    savedNothing: 'You are unsubscribed: you receive nothing more.',
  },
  pitchLink: {
    brokenLink: 'The link is not complete, or not one of ours. Use the link in your most recent email about the pitch.',
    pitch: (title: string, huddle: string): string => `“${title}” at ${huddle}`,
    slot: (n: number, when: string): string => `Slot ${n}: ${when}`,
    title: 'Your pitch',
    statusTitle: (status: string): string => `This pitch is ${status}`,
    suspended: 'Your membership is suspended, so it cannot be cancelled here',
    tooLate: 'It is too late to cancel it here',
    writeTo: (why: string, contact: string): string => `${why}. To cancel it, please write to the organisers: ${contact}.`,
    until: (when: string): string => `You can cancel it until ${when}. The slot is then offered to the next organisation waiting.`,
    cancelButton: 'Cancel my pitch',
    cancelledTitle: 'Your pitch is cancelled',
    cancelled: 'We have emailed you a confirmation that removes it from your calendar.',
    notCancelledTitle: 'Your pitch was not cancelled',
  },
  offerLink: {
    brokenLink: 'The link is not complete, or not one of ours. Use the link in your most recent email.',
    slot: (huddle: string, n: number, when: string): string => `${huddle}, slot ${n}: ${when}`,
    pitch: (title: string): string => `Your pitch: “${title}”`,
    closedTitle: 'This offer is closed',
    closed: (status: string): string => `It was ${status}.`,
    openTitle: 'A pitch slot is yours if you want it',
    heldUntil: (when: string): string => `Held for you until ${when}.`,
    accept: 'Accept and book the slot',
    decline: 'Decline: give it to the next in line',
    pendingTitle: 'Slot held: waiting for approval',
    bookedTitle: 'Your pitch is booked',
    booked: 'We have emailed you the details with a calendar invitation.',
    declinedTitle: 'Offer declined',
    declined: 'The slot goes to the next organisation in line. Thank you for letting us know.',
    chooseTitle: 'Choose accept or decline',
    choose: 'Open the link from your email again and press one of the buttons.',
  },
  apiToken: {
    title: 'Sign in',
    intro: 'Convene emails you a link that signs you in. It works once, for 15 minutes.',
    email: 'Your email address',
    send: 'Email me a sign-in link',
    finishTitle: 'Sign in to Convene',
    finish: 'Press the button to finish signing in. You will see your member token and your private calendar address.',
    button: 'Sign in',
    expiredTitle: 'This sign-in link no longer works',
    expired: 'The link was used already, or it has expired (sign-in links last 15 minutes; the one in the welcome email, a week).',
    askAgain: 'Ask for a new one:',
    signedInTitle: (name: string): string => `Signed in as ${name}`,
    tokenHeading: 'Your member token',
    tokenIntro:
      'Apps and scripts send it in each request’s Authorization header, after the word Bearer. It is shown this once: copy it now and keep it private.',
    tokenUntil: (day: string): string => `It works until ${day} unless you sign out.`,
    calendarHeading: 'Your private calendar',
    calendarIntro:
      'Subscribe to it to see the huddles you attend and your pitch slots, with their online links. Anyone with the address can ' +
      'read it; you can change it from the API.',
  },
  /** What a refusal means, said to a person on a page (the API's detail is for programs). */
  console: {
    title: 'Console',
    nav: 'Console',
    dashboard: 'Dashboard',
    keys: 'API keys and sessions',
    clusters: 'Your clusters',
    switchTo: 'Switch cluster',
    signedInAs: (name: string, email: string): string => `Signed in as ${name} (${email})`,
    viewerNote: 'You are a viewer here: you see everything in this cluster and change nothing.',
    roleNames: { organiser: 'organiser', viewer: 'viewer' },
    signOut: 'Sign out',
    signIn: {
      title: 'Sign in to the console',
      intro: 'Organisers sign in with a link we email them. It works once, for 15 minutes.',
      sent: 'If this address belongs to an organiser, a sign-in link is on its way. It works once, for 15 minutes.',
      finishTitle: 'Sign in to the console',
      expired: 'It was used already, or it has expired (sign-in links last 15 minutes). Ask for a new one:',
    },
    notYours: 'Not one of your clusters',
    notYoursText: 'You have no role in this cluster. Choose one of yours:',
    viewerRefused: 'A viewer can see this cluster but not change it.',
    formExpired: 'This form has expired. Please try again.',
    keysIntro:
      'An API key lets a script act as you in this cluster, with your role. Each key is shown once, when it is made; Convene keeps only its hash.',
    keyColumns: { prefix: 'Key', created: 'Made', lastUsed: 'Last used', expires: 'Expires', status: 'Status' },
    keyNeverUsed: 'never',
    keyNoExpiry: 'never',
    keyActive: 'active',
    keyRevoked: (when: string): string => `revoked ${when}`,
    keyExpired: 'expired',
    noKeys: 'You have no API keys in this cluster.',
    newKey: 'Make a new key',
    validDays: 'Valid for (days, 1 to 3650)',
    makeKey: 'Make the key',
    revokeKey: (prefix: string): string => `Revoke ${prefix}`,
    keyMadeTitle: 'Your new API key',
    keyMade: 'Copy it now: this is the only time it is shown. Send it in each request’s Authorization header, after the word Bearer.',
    keyRevokedDone: 'The key is revoked: it stops working at once.',
    sessions: 'Where you are signed in to the console',
    sessionEnded: 'That session is signed out.',
    badDays: 'Enter a whole number of days from 1 to 3650.',
    next: 'Next huddles',
    noHuddles: 'No huddles to come. Schedule one with the API (POST /v1/clusters/{cluster}/huddles) or the command line.',
    attention: 'Needs attention',
    nothingUrgent: 'Nothing needs you right now.',
    pendingAt: (count: number, huddle: string): string =>
      `${count} ${count === 1 ? 'pitch waits' : 'pitches wait'} for your approval at ${huddle}.`,
    offerLapses: (huddle: string, when: string): string => `A waitlist offer for a slot at ${huddle} lapses on ${when}.`,
    soonWithFree: (huddle: string, when: string, free: number): string =>
      `${huddle} starts on ${when} with ${free} free ${free === 1 ? 'slot' : 'slots'}.`,
    draft: 'draft (not published)',
    cancelled: 'cancelled',
    pitches: (confirmed: number, slots: number): string => `Pitches: ${confirmed} of ${slots} slots confirmed`,
    pending: (count: number): string => `${count} waiting for approval`,
    free: (count: number): string => `${count} free`,
    pitchWaitlist: (count: number): string => `${count} on the pitch waitlist`,
    attendance: (registered: number, capacity: number | null): string =>
      capacity === null ? `Registered: ${registered} (no limit)` : `Registered: ${registered} of ${capacity} places`,
    attendanceWaitlist: (count: number): string => `${count} waiting for a place`,
    huddleNotFound: 'No such huddle in this cluster',
    huddleNotFoundText: 'It may have been deleted, or belong to another cluster. The dashboard lists the next huddles.',
    publicPage: 'The public page of this huddle',
    runOfShow: 'Run of show',
    printView: 'Run of show to print',
    csv: 'Run of show as CSV (spreadsheet)',
    slotHeading: (position: number, time: string): string => `Slot ${position}, ${time}`,
    freeSlot: 'Free',
    heldSlot: 'Offered to the first on the pitch waitlist',
    pitchBy: (organisation: string, name: string): string => `${organisation} (${name})`,
    statusNames: { pending: 'waiting for approval', confirmed: 'confirmed', rejected: 'rejected', cancelled: 'cancelled' },
    theme: (theme: string): string => `Theme: ${theme}`,
    approve: 'Approve',
    rejectReason: 'Reason for rejecting (sent to them, optional)',
    reject: 'Reject',
    moveTo: 'Move to',
    move: 'Move',
    noFreeSlot: 'No free slot to move it to.',
    noPitches: 'No pitch slots at this huddle.',
    decided: 'Rejected and cancelled pitches',
    pitchDone: {
      approved: 'Approved. They are emailed a confirmation with the calendar entry.',
      rejected: 'Rejected. They are emailed, with your reason if you gave one; the slot is free again.',
      moved: 'Moved. A confirmed pitcher is emailed the new time with a calendar update; the old slot is free again.',
    },
    audit: 'Audit log',
    auditIntro: 'Every change in this cluster: who made it, when, and what it changed. Newest first.',
    auditWho: 'Who (name contains)',
    auditWhat: 'What',
    auditAnything: 'Any change',
    auditFrom: 'From (day)',
    auditTo: 'To (day, included)',
    auditFilter: 'Show',
    auditNone: 'No change matches.',
    auditOlder: 'Older changes',
    auditBadDay: 'Enter a day as YYYY-MM-DD, like 2026-12-01.',
    auditChanged: (before: string, after: string): string => `Before: ${before}. After: ${after}.`,
    auditAfter: (after: string): string => `Recorded: ${after}.`,
    auditLine: (when: string, who: string): string => `${when}, by ${who}`,
    auditTarget: (type: string, id: string): string => `${type} ${id}`,
    actorTypes: { organiser: 'an organiser', cli: 'the command line', member: 'a member', system: 'Convene itself' },
    members: 'Members',
    membersIntro: 'Members of the cluster book pitches and register to attend. Each new member is emailed a welcome with a sign-in link.',
    search: 'Search by name, email or organisation',
    statusFilter: 'Status',
    anyStatus: 'Any status',
    memberStatuses: { active: 'active', suspended: 'suspended' },
    organisationTypes: {
      company: 'Company',
      university: 'University',
      nhs: 'NHS',
      'public-sector': 'Public sector',
      investor: 'Investor',
      charity: 'Charity',
      other: 'Other',
    },
    noMembers: 'No member matches.',
    moreMembers: 'More members',
    memberLine: (organisation: string, type: string, status: string): string => `${organisation} (${type}), ${status}`,
    addMember: 'Add a member',
    importMembers: 'Upload a CSV of members',
    memberName: 'Full name',
    memberEmail: 'Email address',
    memberOrganisation: 'Organisation',
    memberType: 'Kind of organisation',
    add: 'Add the member',
    memberAdded: 'Added. They are emailed a welcome with a sign-in link.',
    fieldMissing: 'Fill in this field (one line, up to 200 characters).',
    importIntro:
      'The file needs a header row naming email, name, organisation and organisation_type (company, university, nhs, public-sector, investor, charity or other), then one member a row. Nothing is saved until you have seen what the file holds and pressed Import.',
    importFile: 'The CSV file',
    check: 'Check the file',
    importNoFile: 'Choose a CSV file to upload.',
    importNotUtf8: 'The file is not UTF-8 text: save it from your spreadsheet as “CSV UTF-8” and upload it again.',
    memberNotFound: 'No such member in this cluster',
    importPreviewTitle: 'Check the import',
    wouldImport: (count: number): string =>
      count === 0 ? 'No row of the file can be imported.' : `${count} ${count === 1 ? 'member' : 'members'} can be imported.`,
    rejectedRows: (count: number): string => `${count} ${count === 1 ? 'row is' : 'rows are'} rejected and will not be imported:`,
    rejectedRow: (line: number, email: string | undefined, reason: string): string =>
      `Line ${line}${email ? ` (${email})` : ''}: ${reason}`,
    importConfirm: (count: number): string => `Import ${count} ${count === 1 ? 'member' : 'members'}`,
    imported: (count: number): string =>
      `Imported ${count} ${count === 1 ? 'member' : 'members'}. Each is emailed a welcome with a sign-in link.`,
    memberSince: (when: string): string => `Member since ${when}`,
    suspend: 'Suspend…',
    suspendTitle: (name: string): string => `Suspend ${name}?`,
    suspendIntro: 'A suspended member cannot sign in, book or register until you reactivate them. Suspending now also:',
    suspendPitches: (count: number): string =>
      count === 0
        ? 'cancels no pitch (they have none to come)'
        : `cancels ${count === 1 ? 'their pitch' : `their ${count} pitches`} to come, telling them, and offers the slots to the waitlist:`,
    suspendPlaces: (count: number): string =>
      count === 0
        ? 'withdraws no waitlist place or offer'
        : `withdraws ${count === 1 ? 'their place' : `their ${count} places`} on pitch waitlists, with any open offer:`,
    suspendSessions: 'signs them out everywhere, and spends any sign-in link they have not used.',
    suspendConfirm: (name: string): string => `Suspend ${name}`,
    keepActive: (name: string): string => `No, keep ${name} active`,
    suspended: 'Suspended: they are signed out everywhere, and their pitches to come are cancelled.',
    reactivate: 'Reactivate',
    reactivated: 'Reactivated: they can sign in again (with a new link).',
    pitchAt: (title: string, huddle: string): string => `“${title}” at ${huddle}`,
    subscribers: 'Subscribers',
    subscribersIntro:
      'People who signed up for the newsletter or invitations, with their consent on record. Pending ones have not confirmed yet and are never mailed.',
    subscriberSearch: 'Search by address or name',
    topicFilter: 'Topic',
    anyTopic: 'Any topic',
    subscriberStatuses: { pending: 'pending (not confirmed)', confirmed: 'confirmed', unsubscribed: 'unsubscribed' },
    noSubscribers: 'No subscriber matches.',
    moreSubscribers: 'More subscribers',
    subscribersCsv: 'These subscribers as CSV (spreadsheet)',
    subscriberLine: (status: string, topics: string): string => `${status}; ${topics}`,
    noTopics: 'no topic',
    signedUp: 'Signed up',
    confirmedOn: 'Confirmed',
    unsubscribedOn: 'Unsubscribed',
    topicsHeading: 'Topics',
    themesHeading: 'Themes',
    allThemes: 'all themes',
    consentHeading: 'Consent record',
    consentLine: (when: string, kind: string, source: string): string => `${when}: ${kind} (${source})`,
    exportJson: 'Download everything held about them (JSON)',
    unsubscribeThem: 'Unsubscribe them',
    unsubscribeNote: 'For someone who asked by phone or email: they receive nothing more; their record and consent history are kept.',
    subscriberUnsubscribed: 'Unsubscribed: they receive nothing more.',
    erase: 'Erase…',
    eraseTitle: (email: string): string => `Erase ${email}?`,
    eraseIntro:
      'Erasing deletes the record and every copy of the address (queued mail included); the consent record keeps only what was agreed, not who. The address, kept only as a hash, is never mailed again, even if it signs up again. This cannot be undone.',
    eraseConfirm: 'Erase for good',
    keepThem: 'No, keep them',
    erased: 'Erased. The address is suppressed and will never be mailed again.',
    subscriberNotFound: 'No such subscriber in this cluster',
    suppressions: 'Suppressed addresses',
    suppressionsIntro:
      'Addresses that are never mailed: erased at their request, or bounced or complained about (those hold in every cluster). Lifting one mails it again; say why.',
    noSuppressions: 'No address is suppressed.',
    suppressionLine: (reason: string, scope: string, when: string): string => `${reason}, ${scope}, since ${when}`,
    suppressionScopes: { cluster: 'this cluster', everywhere: 'every cluster' },
    erasedAddress: 'an erased address',
    liftNote: 'Why it may be mailed again (kept in the audit log)',
    lift: 'Lift the suppression',
    lifted: 'Lifted: the address may be mailed again.',
    noteMissing: 'Say why, in at least 3 characters.',
    printed: (when: string): string => `Printed from Convene; the run of show as of ${when}.`,
    noneConfirmed: 'No confirmed pitches yet.',
  },
  problems: {
    SLOT_TAKEN: 'Someone has just booked that slot. Choose another one, or take the first free slot.',
    NO_SLOTS_LEFT: 'Every slot is booked now. Join the pitch waitlist and we email you when one frees.',
    BOOKING_LIMIT_REACHED: 'Your organisation already pitches at this huddle, or has pitched as often as the cluster allows for now.',
    BOOKING_CLOSED: 'Booking is not open for this huddle at the moment.',
    CANCELLATION_CUTOFF_PASSED: 'It is too late to cancel this pitch yourself: please write to the organisers.',
    BOOKING_CANCELLED: 'This pitch is cancelled already.',
    BOOKING_NOT_FOUND: 'There is no such pitch of yours.',
    SLOT_NOT_FOUND: 'That slot is not one of this huddle’s. Choose one from the list.',
    ALREADY_REGISTERED: 'You are registered for this huddle already.',
    REGISTRATION_CLOSED: 'Registration for this huddle is closed.',
    NOT_REGISTERED: 'You are not registered for this huddle.',
    ALREADY_ON_WAITLIST: 'Your organisation is on this huddle’s pitch waitlist already.',
    SLOTS_AVAILABLE: 'A slot is free: book it instead of joining the waitlist.',
    NOT_ON_WAITLIST: 'Your organisation is not on this huddle’s waitlist.',
    OFFER_CLOSED: 'This offer is no longer open: it was taken, declined or has run out.',
    OFFER_NOT_FOUND: 'There is no such offer for you.',
    HUDDLE_CANCELLED: 'This huddle is cancelled.',
    HUDDLE_NOT_PUBLISHED: 'This huddle is not published yet.',
    FORBIDDEN: 'Your membership does not allow this at the moment. Please write to the organisers.',
  } as Record<string, string>,
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

// Formatting an instant with Intl costs microseconds, and a cluster page formats 150 of them (a
// quarter of its time); pages show the same upcoming huddles again and again, so each text is kept.
// Bounded: emptied when full, which costs only the next few pages their formatting.
const MAX_KEPT = 20_000;
const kept = new Map<string, string>();
function keep(kind: 'day' | 'time' | 'zone', at: Date, zone: string, make: () => string): string {
  const key = `${kind}${at.getTime()}${zone}`;
  let text = kept.get(key);
  if (text === undefined) {
    if (kept.size >= MAX_KEPT) kept.clear();
    text = make();
    kept.set(key, text);
  }
  return text;
}

/** Dates and times as people read them, in `zone`: "Tuesday 1 December 2026", "09:30". */
export const dates = {
  day: (at: Date, zone: string) => keep('day', at, zone, () => formatter('day', zone).format(at)),
  time: (at: Date, zone: string) => keep('time', at, zone, () => formatter('time', zone).format(at)),
  /** "Tuesday 1 December 2026, 09:30 GMT": a deadline or an instant, with the zone said. */
  moment: (at: Date, zone: string) => `${dates.day(at, zone)}, ${dates.time(at, zone)} ${dates.zoneName(at, zone)}`,
  /** "GMT", "BST", "GMT+5:30": the zone's name for that instant. */
  zoneName: (at: Date, zone: string) =>
    keep(
      'zone',
      at,
      zone,
      () =>
        formatter('zone', zone)
          .formatToParts(at)
          .find((part) => part.type === 'timeZoneName')?.value ?? zone,
    ),
};

const conjunction = new Intl.ListFormat(LOCALE, { type: 'conjunction' });

/** "the newsletter and invitations to huddles": the topics in a sentence. */
export function topicsInWords(topics: readonly string[]): string {
  const phrases = messages.topicPhrases as Record<string, string>;
  return conjunction.format(topics.map((topic) => phrases[topic] ?? topic));
}

/** "Firefox", "Chrome": the browser a session was started from, as a person tells them apart. */
export function browserName(userAgent: string | null): string {
  if (!userAgent) return 'an unknown browser';
  const match = /(Edg|Firefox|Chrome|Safari)\/[\d.]+/.exec(userAgent);
  return match ? match[1]!.replace('Edg', 'Edge') : userAgent.slice(0, 60);
}
