// The member's pages as components (pure): sign-in by email link, and "My huddles" with the forms that
// change things (each a POST carrying the session's CSRF token). Values from the database are escaped.
import type { Booking, Huddle, Registration, Slot } from '../../db/schema.js';
import { ActionForm } from '../../shared/forms.js';
import { Layout } from '../../shared/layout.js';
import { browserName, dates, messages } from '../../shared/messages.js';

const m = messages;

export interface MeData {
  member: { name: string; organisation: string };
  clusterName: string;
  contact: string;
  now: Date;
  done: string | null;
  error: string | null;
  pitches: { booking: Booking; slot: Slot; huddle: Huddle; deadline: Date }[];
  attending: { registration: Registration; huddle: Huddle; position: number | null }[];
  waitlist: { entryId: string; huddle: Huddle; position: number; offer: { id: string; slot: Slot; expiresAt: Date } | null }[];
  calendar: { webcal: string; google: string; ics: string };
  sessions: { id: string; userAgent: string | null; createdAt: Date; current: boolean }[];
  csrf: string;
}

function HuddleLink({ huddle }: { huddle: Huddle }) {
  return (
    <a href={`/h/${huddle.id}`} safe>
      {huddle.title}
    </a>
  );
}

export function MePage(d: MeData) {
  return (
    <Layout title={m.me.title} within={d.clusterName}>
      <h1>{m.me.title}</h1>
      <p safe>{m.me.hello(d.member.name, d.member.organisation, d.clusterName)}</p>
      {d.done ? (
        <p class="done" role="status" safe>
          {d.done}
        </p>
      ) : (
        ''
      )}
      {d.error ? (
        <p class="error" role="alert" safe>
          {d.error}
        </p>
      ) : (
        ''
      )}
      <section aria-labelledby="pitches">
        <h2 id="pitches">{m.me.pitches}</h2>
        {d.pitches.length === 0 ? (
          <p>{m.me.noPitches}</p>
        ) : (
          <ul class="cards">
            {d.pitches.map(({ booking, slot, huddle, deadline }) => (
              <li>
                <HuddleLink huddle={huddle} />
                <br />
                <span safe>{`${m.huddle.slot(slot.position)}: ${dates.moment(slot.startsAt, huddle.timezone)}`}</span>
                <br />
                <span safe>{m.me.pitchLine(booking.title, booking.status)}</span>
                {d.now < deadline ? (
                  <>
                    <p safe>{m.me.canCancelUntil(dates.moment(deadline, huddle.timezone))}</p>
                    <ActionForm action={`/me/pitches/${booking.id}/cancel`} csrf={d.csrf} button={m.me.cancelPitch} secondary />
                  </>
                ) : (
                  <p safe>{m.me.tooLate(d.contact)}</p>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="waitlist">
        <h2 id="waitlist">{m.me.waitlist}</h2>
        {d.waitlist.length === 0 ? (
          <p>{m.me.noWaitlist}</p>
        ) : (
          <ul class="cards">
            {d.waitlist.map((place) => (
              <li>
                <HuddleLink huddle={place.huddle} />
                <br />
                {place.offer ? (
                  <>
                    <span safe>
                      {m.me.offer(
                        dates.moment(place.offer.slot.startsAt, place.huddle.timezone),
                        dates.moment(place.offer.expiresAt, place.huddle.timezone),
                      )}
                    </span>
                    <ActionForm action={`/me/offers/${place.offer.id}/accept`} csrf={d.csrf} button={m.me.accept} />
                    <ActionForm action={`/me/offers/${place.offer.id}/decline`} csrf={d.csrf} button={m.me.decline} secondary />
                  </>
                ) : (
                  <span safe>{m.me.place(place.position)}</span>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="attending">
        <h2 id="attending">{m.me.attending}</h2>
        {d.attending.length === 0 ? (
          <p>{m.me.noAttending}</p>
        ) : (
          <ul class="cards">
            {d.attending.map(({ huddle, position }) => (
              <li>
                <HuddleLink huddle={huddle} />
                <br />
                <span safe>{dates.moment(huddle.startsAt, huddle.timezone)}</span>
                {position !== null ? (
                  <>
                    <br />
                    <span safe>{m.me.waitingPosition(position)}</span>
                  </>
                ) : (
                  ''
                )}
                <ActionForm action={`/me/attendance/${huddle.id}/cancel`} csrf={d.csrf} button={m.me.cancelRegistration} secondary />
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="calendar">
        <h2 id="calendar">{m.me.calendar}</h2>
        <p>{m.me.calendarIntro}</p>
        <ul class="links">
          <li>
            <a href={d.calendar.webcal}>{m.me.subscribe}</a>
          </li>
          <li>
            <a href={d.calendar.google}>{m.me.google}</a>
          </li>
        </ul>
        <p>{m.me.rotateIntro}</p>
        <ActionForm action="/me/calendar-feed/rotate" csrf={d.csrf} button={m.me.rotate} secondary />
      </section>
      <section aria-labelledby="sessions">
        <h2 id="sessions">{m.me.sessions}</h2>
        <ul class="cards">
          {d.sessions.map((session) => (
            <li>
              <span safe>
                {m.me.started(dates.day(session.createdAt, 'UTC'), session.current ? m.me.thisBrowser : browserName(session.userAgent))}
              </span>
              {session.current ? (
                ''
              ) : (
                <ActionForm action={`/me/sessions/${session.id}/end`} csrf={d.csrf} button={m.me.endSession} secondary />
              )}
            </li>
          ))}
        </ul>
        <ActionForm action="/signout" csrf={d.csrf} button={m.me.signOut} />
      </section>
    </Layout>
  );
}
