// The public pages as components (pure): the instance's home, a cluster's page, a huddle's page and the
// newsletter sign-up's answer. Every value from the database is escaped (`safe`); xss-scan checks it.
import type { Cluster, Huddle, Topic } from '../../db/schema.js';
import { calendarLinks, clusterCalendarUrl, huddleCalendarUrl } from '../../shared/calendar-links.js';
import { EmailField } from '../../shared/forms.js';
import { Layout } from '../../shared/layout.js';
import { dates, messages } from '../../shared/messages.js';

const m = messages;

export interface AgendaItem {
  position: number;
  startsAt: Date;
  organisation: string;
  title: string;
  /** The pitcher's few lines for the agenda ('' when none). */
  summary?: string;
}

export function HomePage(props: { clusters: Pick<Cluster, 'slug' | 'name'>[] }) {
  return (
    <Layout title={m.home.title}>
      <h1>{m.home.title}</h1>
      <p>{m.home.intro}</p>
      {props.clusters.length === 0 ? (
        <p>{m.home.none}</p>
      ) : (
        <ul class="cards">
          {props.clusters.map((cluster) => (
            <li>
              <a href={`/c/${cluster.slug}`} safe>
                {cluster.name}
              </a>
            </li>
          ))}
        </ul>
      )}
    </Layout>
  );
}

/** "Tuesday 2 December 2025, 09:30–11:30 GMT" in the huddle's zone. */
function When({ huddle }: { huddle: Pick<Huddle, 'startsAt' | 'endsAt' | 'timezone'> }) {
  const zone = huddle.timezone;
  const sameDay = dates.day(huddle.startsAt, zone) === dates.day(huddle.endsAt, zone);
  const end = sameDay ? dates.time(huddle.endsAt, zone) : `${dates.day(huddle.endsAt, zone)} ${dates.time(huddle.endsAt, zone)}`;
  const text = `${dates.day(huddle.startsAt, zone)}, ${dates.time(huddle.startsAt, zone)}–${end} ${dates.zoneName(huddle.startsAt, zone)}`;
  return (
    <time datetime={huddle.startsAt.toISOString()} safe>
      {text}
    </time>
  );
}

function HuddleItem({ huddle, target }: { huddle: Huddle; target?: '_top' }) {
  const cancelled = huddle.status === 'cancelled';
  return (
    <li class={cancelled ? 'cancelled' : undefined}>
      <a href={`/h/${huddle.id}`} target={target} safe>
        {huddle.title}
      </a>
      {cancelled ? <strong class="tag">{m.cluster.cancelled}</strong> : ''}
      <br />
      <When huddle={huddle} />
      {huddle.venueName ? (
        <>
          {' · '}
          <span safe>{huddle.venueName}</span>
        </>
      ) : (
        ''
      )}
    </li>
  );
}

export interface SignUpForm {
  email: string;
  name: string;
  topics: Topic[];
  themes: string[];
  errors: Partial<Record<'email' | 'topics', string>>;
}

export const EMPTY_SIGN_UP: SignUpForm = { email: '', name: '', topics: ['newsletter'], themes: [], errors: {} };

/** The newsletter sign-up: plain HTML that also works when pasted on the cluster's own website. */
export function SignUpFormView({ cluster, form }: { cluster: Pick<Cluster, 'slug' | 'themes'>; form: SignUpForm }) {
  const topics = Object.entries(m.topicNames) as [Topic, string][];
  return (
    <form method="post" action={`/c/${cluster.slug}/subscribe`} novalidate>
      {form.errors.email || form.errors.topics ? (
        <div class="error" role="alert">
          <p>{m.signUp.problemTitle}</p>
        </div>
      ) : (
        ''
      )}
      <EmailField label={m.signUp.email} value={form.email} error={form.errors.email} />
      <label for="name">{m.signUp.name}</label>
      <input id="name" name="name" type="text" autocomplete="name" value={form.name} />
      <fieldset aria-describedby={form.errors.topics ? 'topics-error' : undefined}>
        <legend>{m.signUp.topics}</legend>
        {form.errors.topics ? (
          <p class="field-error" id="topics-error" safe>
            {form.errors.topics}
          </p>
        ) : (
          ''
        )}
        {topics.map(([topic, label]) => (
          <label class="choice">
            <input type="checkbox" name="topics" value={topic} checked={form.topics.includes(topic)} /> <span safe>{label}</span>
          </label>
        ))}
      </fieldset>
      {cluster.themes.length > 0 ? (
        <fieldset>
          <legend>{m.signUp.themes}</legend>
          {cluster.themes.map((theme) => (
            <label class="choice">
              <input type="checkbox" name="themes" value={theme} checked={form.themes.includes(theme)} /> <span safe>{theme}</span>
            </label>
          ))}
        </fieldset>
      ) : (
        ''
      )}
      <div class="hp" aria-hidden="true">
        <label for="website">{m.signUp.honeypot}</label>
        <input id="website" name="website" type="text" tabindex="-1" autocomplete="off" value="" />
      </div>
      <button type="submit">{m.signUp.button}</button>
    </form>
  );
}

export function ClusterPage(props: { cluster: Cluster; baseUrl: string; huddles: Huddle[]; theme: string | undefined; form: SignUpForm }) {
  const { cluster, huddles, theme } = props;
  const feed = calendarLinks(clusterCalendarUrl(props.baseUrl, cluster.slug));
  const emptyText: string = theme ? m.cluster.noneForTheme(theme) : m.cluster.noneUpcoming;
  const outlook = `https://outlook.office.com/calendar/0/addfromweb?url=${encodeURIComponent(feed.ics)}&name=${encodeURIComponent(cluster.name)}`;
  return (
    <Layout title={cluster.name}>
      <h1 safe>{cluster.name}</h1>
      {cluster.description ? (
        <p class="description" safe>
          {cluster.description}
        </p>
      ) : (
        ''
      )}
      {cluster.contactEmail ? (
        <p>
          {m.cluster.contact}:{' '}
          <a href={`mailto:${cluster.contactEmail}`} safe>
            {cluster.contactEmail}
          </a>
        </p>
      ) : (
        ''
      )}
      <section aria-labelledby="upcoming">
        <h2 id="upcoming">{m.cluster.upcoming}</h2>
        {cluster.themes.length > 0 ? (
          <form method="get" action={`/c/${cluster.slug}`} class="inline">
            <label for="theme">{m.cluster.filterLabel}</label>
            <select id="theme" name="theme">
              <option value="">{m.cluster.filterAll}</option>
              {cluster.themes.map((t) => (
                <option value={t} selected={t === theme} safe>
                  {t}
                </option>
              ))}
            </select>
            <button type="submit">{m.cluster.filterButton}</button>
          </form>
        ) : (
          ''
        )}
        {huddles.length === 0 ? (
          <p safe>{emptyText}</p>
        ) : (
          <ul class="cards">
            {huddles.map((huddle) => (
              <HuddleItem huddle={huddle} />
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="subscribe" class="no-print">
        <h2 id="subscribe">{m.cluster.subscribeHeading}</h2>
        <p>{m.cluster.subscribeIntro}</p>
        <ul class="links">
          <li>
            <a href={feed.webcal}>{m.cluster.subscribeApple}</a>
          </li>
          <li>
            <a href={feed.google}>{m.cluster.subscribeGoogle}</a>
          </li>
          <li>
            <a href={outlook}>{m.cluster.subscribeOutlook}</a>
          </li>
        </ul>
        <p>
          <label for="ics">{m.cluster.subscribeIcs}</label>
          <input id="ics" type="text" readonly value={feed.ics} />
        </p>
      </section>
      <section aria-labelledby="newsletter" class="no-print">
        <h2 id="newsletter">{m.cluster.newsletterHeading}</h2>
        <p>{m.cluster.newsletterIntro}</p>
        <SignUpFormView cluster={cluster} form={props.form} />
      </section>
    </Layout>
  );
}

/** The upcoming huddles alone, for a cluster's website to frame; links open in the whole window. */
export function EmbedPage(props: { cluster: Pick<Cluster, 'name' | 'slug'>; huddles: Huddle[] }) {
  return (
    <Layout title={m.cluster.upcoming} within={props.cluster.name} bare>
      <h1 safe>{`${m.cluster.upcoming}: ${props.cluster.name}`}</h1>
      {props.huddles.length === 0 ? (
        <p>{m.cluster.noneUpcoming}</p>
      ) : (
        <ul class="cards">
          {props.huddles.map((huddle) => (
            <HuddleItem huddle={huddle} target="_top" />
          ))}
        </ul>
      )}
    </Layout>
  );
}

export function SignUpSentPage(props: { cluster: Pick<Cluster, 'slug' | 'name'>; email: string }) {
  return (
    <Layout title={m.signUp.sentTitle} within={props.cluster.name}>
      <h1>{m.signUp.sentTitle}</h1>
      <p safe>{m.signUp.sent(props.email)}</p>
      <p>
        <a href={`/c/${props.cluster.slug}`} safe>
          {m.signUp.back(props.cluster.name)}
        </a>
      </p>
    </Layout>
  );
}

/** Google Calendar's "create event" link for one huddle (dates in UTC, as Google wants them). */
function googleEventLink(huddle: Huddle, details: string): string {
  const stamp = (at: Date) =>
    at
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
  const params = new URLSearchParams({
    action: 'TEMPLATE',
    text: huddle.title,
    dates: `${stamp(huddle.startsAt)}/${stamp(huddle.endsAt)}`,
    details,
    ...(huddle.venueName ? { location: [huddle.venueName, huddle.venueAddress].filter(Boolean).join(', ') } : {}),
  });
  return `https://calendar.google.com/calendar/render?${params.toString()}`;
}

export function HuddlePage(props: {
  huddle: Huddle;
  cluster: Pick<Cluster, 'slug' | 'name'>;
  baseUrl: string;
  placesLeft: number | null;
  agenda: AgendaItem[];
  now: Date;
  /** The signed-in member's side of the page; null when nobody (of this cluster) is signed in. */
  viewer: Viewer | null;
  /** The name of a signed-in member of another cluster, who cannot take part here. */
  elsewhere?: string | null;
}) {
  const { huddle, cluster } = props;
  const zone = huddle.timezone;
  const pageUrl = `${props.baseUrl}/h/${huddle.id}`;
  const ics = calendarLinks(huddleCalendarUrl(props.baseUrl, huddle.id)).ics;
  const address = [huddle.venueName, huddle.venueAddress].filter(Boolean).join(', ');
  const map = `https://www.openstreetmap.org/search?query=${encodeURIComponent(address)}`;
  const over = huddle.endsAt.getTime() <= props.now.getTime();
  return (
    <Layout title={huddle.title} within={cluster.name}>
      <p class="crumb">
        <a href={`/c/${cluster.slug}`} safe>
          {cluster.name}
        </a>
      </p>
      <h1 safe>{huddle.title}</h1>
      {huddle.status === 'cancelled' ? (
        <p class="error" role="status" safe>
          {m.huddle.cancelledNotice(huddle.cancelReason ?? '')}
        </p>
      ) : over ? (
        <p class="note">{m.huddle.past}</p>
      ) : (
        ''
      )}
      {huddle.description ? (
        <p class="description" safe>
          {huddle.description}
        </p>
      ) : (
        ''
      )}
      <dl class="facts">
        <dt>{m.huddle.when}</dt>
        <dd>
          <When huddle={huddle} />
        </dd>
        {huddle.venueName ? (
          <>
            <dt>{m.huddle.where}</dt>
            <dd>
              <span safe>{address}</span> (<a href={map}>{m.huddle.map}</a>)
            </dd>
          </>
        ) : (
          ''
        )}
        {huddle.onlineUrl ? (
          <>
            <dt>{m.huddle.online}</dt>
            {props.viewer && (props.viewer.myPitch || props.viewer.attendance?.position === null) ? (
              <dd>
                <a href={huddle.onlineUrl} safe>
                  {huddle.onlineUrl}
                </a>
              </dd>
            ) : (
              <dd>{m.huddle.onlineNote}</dd>
            )}
          </>
        ) : (
          ''
        )}
        <dt>{m.huddle.places}</dt>
        <dd safe>
          {huddle.capacity === null || props.placesLeft === null
            ? m.huddle.unlimited
            : m.huddle.placesLeft(props.placesLeft, huddle.capacity)}
        </dd>
        {huddle.themes.length > 0 ? (
          <>
            <dt>{m.huddle.themes}</dt>
            <dd safe>{huddle.themes.join(', ')}</dd>
          </>
        ) : (
          ''
        )}
      </dl>
      <section aria-labelledby="agenda">
        <h2 id="agenda">{m.huddle.agenda}</h2>
        {props.agenda.length === 0 ? (
          <p>{m.huddle.noAgenda}</p>
        ) : (
          <ol class="agenda">
            {props.agenda.map((item) => (
              <li>
                <span class="slot" safe>
                  {`${dates.time(item.startsAt, zone)} · ${m.huddle.slot(item.position)}`}
                </span>
                <br />
                <strong safe>{item.organisation}</strong>: <span safe>{item.title}</span>
                {item.summary ? (
                  <p class="summary" safe>
                    {item.summary}
                  </p>
                ) : (
                  ''
                )}
              </li>
            ))}
          </ol>
        )}
      </section>
      {huddle.status !== 'cancelled' ? (
        <section aria-labelledby="calendar" class="no-print">
          <h2 id="calendar">{m.huddle.addToCalendar}</h2>
          <ul class="links">
            <li>
              <a href={ics}>{m.huddle.ics}</a>
            </li>
            <li>
              <a href={googleEventLink(huddle, pageUrl)}>{m.huddle.google}</a>
            </li>
          </ul>
        </section>
      ) : (
        ''
      )}
      {huddle.status !== 'cancelled' && !over ? (
        props.viewer ? (
          <HuddleActions huddle={huddle} viewer={props.viewer} />
        ) : (
          <section aria-labelledby="actions" class="no-print">
            <h2 id="actions">{m.huddle.actionsHeading}</h2>
            {props.elsewhere ? (
              <p safe>{m.huddle.otherCluster(props.elsewhere, cluster.name)}</p>
            ) : (
              <>
                <p>{m.huddle.actionsSignIn}</p>
                <p>
                  <a class="button" href="/signin">
                    {m.huddle.signIn}
                  </a>
                </p>
              </>
            )}
          </section>
        )
      ) : (
        ''
      )}
    </Layout>
  );
}

export interface PitchForm {
  title: string;
  summary: string;
  slotId: string;
  /** One of the huddle's themes ('' for none), and the consent to give the email in the follow-up. */
  theme: string;
  shareContact: boolean;
  error: string | null;
  /** Which form the error answers: beside the pitch's title, or (registering) above the actions. */
  errorAt?: 'pitch' | 'register';
}

export interface Viewer {
  name: string;
  csrf: string;
  /** Free slots while booking is open; empty when none is free or booking is closed. */
  freeSlots: { id: string; label: string }[];
  bookingOpen: boolean;
  /** When booking will open, while it is not open yet (else null); and when it closes. */
  bookingOpensAt: Date | null;
  bookingClosesAt: Date;
  /** The status of the organisation's pitch at this huddle, if it has one. */
  myPitch: { title: string; status: string } | null;
  onWaitlist: boolean;
  /** Registered (null position) or waiting (a position); undefined when not registered. */
  attendance: { position: number | null } | undefined;
  form: PitchForm;
}

function PitchFields({
  form,
  withSlots,
  themes,
}: {
  form: PitchForm;
  withSlots: { id: string; label: string }[] | null;
  themes: string[];
}) {
  return (
    <>
      <label for="title">{m.book.title}</label>
      {form.error ? (
        <p class="field-error" id="pitch-error" role="alert" safe>
          {form.error}
        </p>
      ) : (
        ''
      )}
      <input
        id="title"
        name="title"
        type="text"
        required
        maxlength="200"
        value={form.title}
        aria-describedby={form.error ? 'pitch-error' : undefined}
      />
      <label for="summary">{m.book.summary}</label>
      <textarea id="summary" name="summary" rows="3" maxlength="1000" safe>
        {form.summary}
      </textarea>
      {withSlots && themes.length > 0 ? (
        <>
          <label for="theme">{m.book.theme}</label>
          <select id="theme" name="theme">
            <option value="">{m.book.noTheme}</option>
            {themes.map((theme) => (
              <option value={theme} selected={theme === form.theme} safe>
                {theme}
              </option>
            ))}
          </select>
        </>
      ) : (
        ''
      )}
      {withSlots ? (
        <label class="choice">
          <input type="checkbox" name="shareContact" value="yes" checked={form.shareContact} /> {m.book.shareContact}
        </label>
      ) : (
        ''
      )}
      {withSlots ? (
        <>
          <label for="slotId">{m.book.slot}</label>
          <select id="slotId" name="slotId">
            <option value="">{m.book.firstFree}</option>
            {withSlots.map((slot) => (
              <option value={slot.id} selected={slot.id === form.slotId} safe>
                {slot.label}
              </option>
            ))}
          </select>
        </>
      ) : (
        ''
      )}
    </>
  );
}

/** What a signed-in member can do at a huddle: book a pitch (or join the waitlist), register to attend. */
export function HuddleActions({ huddle, viewer }: { huddle: Huddle; viewer: Viewer }) {
  const zone = huddle.timezone;
  const bookingForm = !viewer.myPitch && viewer.freeSlots.length > 0;
  const waitlistForm = !viewer.myPitch && !bookingForm && viewer.bookingOpen && !viewer.onWaitlist && huddle.slotCount > 0;
  // An error shows beside the title it is about; one no form on the page can show (booking closed
  // meanwhile, or a refused registration) shows above the actions, so it is never lost.
  const besideTitle = viewer.form.errorAt !== 'register' && (bookingForm || waitlistForm);
  const form = besideTitle ? viewer.form : { ...viewer.form, error: null };
  const bookingState =
    viewer.myPitch || huddle.slotCount === 0
      ? null
      : viewer.bookingOpen
        ? viewer.onWaitlist
          ? m.book.onWaitlist
          : m.book.closesOn(dates.moment(viewer.bookingClosesAt, zone))
        : viewer.bookingOpensAt
          ? m.book.opensOn(dates.moment(viewer.bookingOpensAt, zone))
          : m.book.closedOn(dates.moment(viewer.bookingClosesAt, zone));
  return (
    <section aria-labelledby="actions" class="no-print">
      <h2 id="actions">{m.huddle.actionsHeading}</h2>
      <p safe>{m.book.signedInAs(viewer.name)}</p>
      {viewer.form.error && !besideTitle ? (
        <p class="error" id="pitch-error" role="alert" safe>
          {viewer.form.error}
        </p>
      ) : (
        ''
      )}
      {viewer.myPitch ? (
        <p>
          <span safe>{m.book.yourPitch(viewer.myPitch.title, viewer.myPitch.status)}</span> <a href="/me">{m.book.seeInMe}</a>
        </p>
      ) : (
        ''
      )}
      {bookingState ? <p safe>{bookingState}</p> : ''}
      {bookingForm ? (
        <form method="post" action={`/h/${huddle.id}/book`}>
          <h3>{m.book.heading}</h3>
          <input type="hidden" name="_csrf" value={viewer.csrf} />
          <PitchFields form={form} withSlots={viewer.freeSlots} themes={huddle.themes} />
          <p>
            <button type="submit">{m.book.button}</button>
          </p>
        </form>
      ) : waitlistForm ? (
        <form method="post" action={`/h/${huddle.id}/waitlist`}>
          <h3>{m.book.waitlistHeading}</h3>
          <p>{m.book.waitlistIntro}</p>
          <input type="hidden" name="_csrf" value={viewer.csrf} />
          <PitchFields form={form} withSlots={null} themes={[]} />
          <p>
            <button type="submit">{m.book.waitlistButton}</button>
          </p>
        </form>
      ) : (
        ''
      )}
      {viewer.attendance ? (
        <p safe>{viewer.attendance.position === null ? m.book.registered : m.me.waitingPosition(viewer.attendance.position)}</p>
      ) : (
        <form method="post" action={`/h/${huddle.id}/register`} class="action">
          <input type="hidden" name="_csrf" value={viewer.csrf} />
          <button type="submit">{m.book.register}</button>
        </form>
      )}
    </section>
  );
}

export function NotFoundPage() {
  return (
    <Layout title={m.notFound.title}>
      <h1>{m.notFound.title}</h1>
      <p>{m.notFound.body}</p>
    </Layout>
  );
}
