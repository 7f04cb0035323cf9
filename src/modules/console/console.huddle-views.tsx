// A huddle in the console (pure): its slots in order with each pitch, the forms to approve, reject or
// move one (not for viewers, nor once the huddle has started), and the run of show to print.
import type { Booking, Huddle, Member, Slot } from '../../db/schema.js';
import { ActionForm } from '../../shared/forms.js';
import { placeText, whenText } from '../../shared/huddle-text.js';
import { Layout } from '../../shared/layout.js';
import { dates, messages } from '../../shared/messages.js';
import { ConsoleFrame, type ConsoleFrameData } from './console.views.js';

const m = messages.console;

/** "09:30–09:40": a slot's times in the huddle's zone (the page says the day and zone once, above). */
function times(slot: Slot, zone: string): string {
  return `${dates.time(slot.startsAt, zone)}–${dates.time(slot.endsAt, zone)}`;
}

export interface SlotLine {
  slot: Slot;
  /** The pending or confirmed pitch in it, if any. */
  pitch: { booking: Booking; member: Member } | null;
  /** Held for the first on the pitch waitlist (an open offer). */
  held: boolean;
}

export interface HuddlePageData {
  frame: ConsoleFrameData;
  huddle: Huddle;
  lines: SlotLine[];
  decided: { booking: Booking; slot: Slot; member: Member }[];
  /** Whether the forms that change pitches are offered: an organiser, and a huddle not started nor cancelled. */
  canChange: boolean;
  /** How many people are invited (the invitations page says who). */
  invited: number;
  done?: string | null;
  error?: string | null;
}

function PitchText(props: { booking: Booking; member: Member }) {
  const { booking, member } = props;
  return (
    <>
      <strong safe>“{booking.title}”</strong> <span safe>{m.pitchBy(member.organisation, member.name)}</span>
      {booking.status === 'pending' ? <span class="tag">{m.statusNames.pending}</span> : ''}
      {booking.theme ? (
        <p class="slot" safe>
          {m.theme(booking.theme)}
        </p>
      ) : (
        ''
      )}
      {booking.summary ? (
        <p class="description" safe>
          {booking.summary}
        </p>
      ) : (
        ''
      )}
    </>
  );
}

function PitchForms(props: { base: string; csrf: string; line: SlotLine; free: Slot[]; zone: string }) {
  const { booking } = props.line.pitch!;
  const at = `${props.base}/pitches/${booking.id}`;
  return (
    <>
      {booking.status === 'pending' ? (
        <>
          <ActionForm action={`${at}/approve`} csrf={props.csrf} button={m.approve} label={m.about(m.approve, booking.title)} />
          <form method="post" action={`${at}/reject`}>
            <input type="hidden" name="_csrf" value={props.csrf} />
            <label for={`reason-${booking.id}`}>{m.rejectReason}</label>
            <textarea id={`reason-${booking.id}`} name="reason" rows="2" maxlength="1000"></textarea>
            <p>
              <button type="submit" class="secondary" aria-label={m.about(m.reject, booking.title)}>
                {m.reject}
              </button>
            </p>
          </form>
        </>
      ) : (
        ''
      )}
      {props.free.length === 0 ? (
        <p class="note">{m.noFreeSlot}</p>
      ) : (
        <form method="post" action={`${at}/move`} class="inline">
          <input type="hidden" name="_csrf" value={props.csrf} />
          <span>
            <label for={`slot-${booking.id}`}>{m.moveTo}</label>
            <select id={`slot-${booking.id}`} name="slotId">
              {props.free.map((slot) => (
                <option value={slot.id} safe>
                  {m.slotHeading(slot.position, times(slot, props.zone))}
                </option>
              ))}
            </select>
          </span>
          <button type="submit" class="secondary" aria-label={m.about(m.move, booking.title)}>
            {m.move}
          </button>
        </form>
      )}
    </>
  );
}

export function HuddlePage(d: HuddlePageData) {
  const { huddle } = d;
  const base = `/console/${d.frame.current!.clusterSlug}/huddles/${huddle.id}`;
  const free = d.lines.filter((line) => !line.pitch && !line.held).map((line) => line.slot);
  const place = placeText(huddle);
  return (
    <ConsoleFrame title={huddle.title} frame={d.frame} section="dashboard" done={d.done} error={d.error}>
      <dl class="facts">
        <dt>{messages.huddle.when}</dt>
        <dd safe>{whenText(huddle)}</dd>
        {place ? (
          <>
            <dt>{messages.huddle.where}</dt>
            <dd safe>{place}</dd>
          </>
        ) : (
          ''
        )}
      </dl>
      {huddle.status === 'cancelled' ? (
        <p class="error" safe>
          {messages.huddle.cancelledNotice(huddle.cancelReason ?? '')}
        </p>
      ) : (
        ''
      )}
      {huddle.status === 'draft' ? <p class="note">{m.draft}</p> : ''}
      {d.canChange ? (
        <p>
          <a class="button" href={`${base}/edit`}>
            {m.edit}
          </a>{' '}
          {huddle.status === 'draft' ? <ActionForm action={`${base}/publish`} csrf={d.frame.csrf} button={m.publishNow} /> : ''}{' '}
          <a href={`${base}/cancel`}>{m.cancelHuddle}</a>
        </p>
      ) : (
        ''
      )}
      <ul class="links">
        <li>
          <a href={`/h/${huddle.id}`}>{m.publicPage}</a>
        </li>
        <li>
          <a href={`${base}/invitations`} safe>
            {m.invitationsLink(d.invited)}
          </a>
        </li>
        <li>
          <a href={`${base}/checkin`}>{m.checkInLink}</a>
        </li>
        <li>
          <a href={`${base}/run-of-show`}>{m.printView}</a>
        </li>
        <li>
          <a href={`${base}/run-of-show.csv`} download="">
            {m.csv}
          </a>
        </li>
      </ul>
      <section aria-labelledby="slots">
        <h2 id="slots">{m.runOfShow}</h2>
        {d.lines.length === 0 ? <p>{m.noPitches}</p> : ''}
        <ol class="cards">
          {d.lines.map((line) => (
            <li>
              <h3 safe>{m.slotHeading(line.slot.position, times(line.slot, huddle.timezone))}</h3>
              {line.pitch ? (
                <>
                  <PitchText {...line.pitch} />
                  {d.canChange ? <PitchForms base={base} csrf={d.frame.csrf} line={line} free={free} zone={huddle.timezone} /> : ''}
                </>
              ) : (
                <p>{line.held ? m.heldSlot : m.freeSlot}</p>
              )}
            </li>
          ))}
        </ol>
      </section>
      {d.decided.length > 0 ? (
        <section aria-labelledby="decided">
          <h2 id="decided">{m.decided}</h2>
          <ul class="cards">
            {d.decided.map(({ booking, member }) => (
              <li>
                <span safe>{`“${booking.title}” ${m.pitchBy(member.organisation, member.name)}: ${m.statusNames[booking.status]}`}</span>
              </li>
            ))}
          </ul>
        </section>
      ) : (
        ''
      )}
    </ConsoleFrame>
  );
}

/** The run of show on paper: the confirmed pitches in slot order, nothing else. */
export function RunOfShowPage(props: {
  huddle: Huddle;
  clusterName: string;
  pitches: { booking: Booking; slot: Slot; member: Member }[];
  now: Date;
}) {
  const { huddle } = props;
  const place = placeText(huddle);
  return (
    <Layout title={`${m.runOfShow}: ${huddle.title}`} within={props.clusterName} noindex>
      <h1 safe>{huddle.title}</h1>
      <p safe>{whenText(huddle)}</p>
      {place ? <p safe>{place}</p> : ''}
      <h2>{m.runOfShow}</h2>
      {props.pitches.length === 0 ? <p>{m.noneConfirmed}</p> : ''}
      <ol class="agenda">
        {props.pitches.map(({ booking, slot, member }) => (
          <li>
            <strong safe>{m.slotHeading(slot.position, times(slot, huddle.timezone))}</strong>
            <br />
            <span safe>{`“${booking.title}”, ${m.pitchBy(member.organisation, member.name)}`}</span>
            {booking.summary ? (
              <p class="summary" safe>
                {booking.summary}
              </p>
            ) : (
              ''
            )}
          </li>
        ))}
      </ol>
      <p class="note" safe>
        {m.printed(dates.moment(props.now, huddle.timezone))}
      </p>
    </Layout>
  );
}
