// The subscribers pages of the console (pure): the list with search by address, status and topic; one
// person with their consent record, export, unsubscribe and erase (after a confirmation step); and the
// suppressed addresses, each liftable with a note.
import { TOPICS, type ConsentEvent, type Subscriber } from '../../db/schema.js';
import { ActionForm } from '../../shared/forms.js';
import { dates, messages, topicsInWords } from '../../shared/messages.js';
import type { SuppressionEntry } from '../subscribers/subscribers.suppressions.js';
import { ConsoleFrame, type ConsoleFrameData } from './console.views.js';

const m = messages.console;

function base(frame: ConsoleFrameData): string {
  return `/console/${frame.current!.clusterSlug}/subscribers`;
}

export interface SubscriberFilter {
  q: string;
  status: string;
  topic: string;
}

export function SubscribersPage(props: {
  frame: ConsoleFrameData;
  filter: SubscriberFilter;
  rows: Subscriber[];
  more: string | null;
  csv: string;
}) {
  const { filter } = props;
  return (
    <ConsoleFrame title={m.subscribers} frame={props.frame} section="subscribers">
      <p>{m.subscribersIntro}</p>
      <form method="get" action={base(props.frame)} class="inline">
        <span>
          <label for="q">{m.subscriberSearch}</label>
          <input id="q" name="q" type="search" value={filter.q} maxlength="200" />
        </span>
        <span>
          <label for="status">{m.statusFilter}</label>
          <select id="status" name="status">
            <option value="">{m.anyStatus}</option>
            {(['pending', 'confirmed', 'unsubscribed'] as const).map((status) => (
              <option value={status} selected={status === filter.status}>
                {m.subscriberStatuses[status]}
              </option>
            ))}
          </select>
        </span>
        <span>
          <label for="topic">{m.topicFilter}</label>
          <select id="topic" name="topic">
            <option value="">{m.anyTopic}</option>
            {TOPICS.map((topic) => (
              <option value={topic} selected={topic === filter.topic}>
                {messages.topicNames[topic]}
              </option>
            ))}
          </select>
        </span>
        <button type="submit">{m.auditFilter}</button>
      </form>
      <p>
        <a href={props.csv} download="">
          {m.subscribersCsv}
        </a>{' '}
        · <a href={`/console/${props.frame.current!.clusterSlug}/suppressions`}>{m.suppressions}</a>
      </p>
      {props.rows.length === 0 ? <p>{m.noSubscribers}</p> : ''}
      <ul class="cards">
        {props.rows.map((subscriber) => (
          <li>
            <a href={`${base(props.frame)}/${subscriber.id}`} safe>
              {subscriber.email}
            </a>{' '}
            <span safe>{subscriber.name ?? ''}</span>
            <br />
            <span safe>
              {m.subscriberLine(
                m.subscriberStatuses[subscriber.status],
                subscriber.topics.length ? topicsInWords(subscriber.topics) : m.noTopics,
              )}
            </span>
          </li>
        ))}
      </ul>
      {props.more ? (
        <p>
          <a href={props.more}>{m.moreSubscribers}</a>
        </p>
      ) : (
        ''
      )}
    </ConsoleFrame>
  );
}

export function SubscriberPage(props: {
  frame: ConsoleFrameData;
  subscriber: Subscriber;
  events: ConsentEvent[];
  zone: string;
  done?: string | null;
  error?: string | null;
}) {
  const { subscriber, zone } = props;
  const here = `${base(props.frame)}/${subscriber.id}`;
  const organiser = props.frame.current!.role !== 'viewer';
  const day = (at: Date | null) => (at ? dates.moment(at, zone) : '–');
  const topics: string = subscriber.topics.length ? topicsInWords(subscriber.topics) : m.noTopics;
  const themes: string = subscriber.themes.length ? subscriber.themes.join(', ') : m.allThemes;
  return (
    <ConsoleFrame title={subscriber.email} frame={props.frame} section="subscribers" done={props.done} error={props.error}>
      <dl class="facts">
        <dt>{m.memberName}</dt>
        <dd safe>{subscriber.name ?? '–'}</dd>
        <dt>{m.statusFilter}</dt>
        <dd>{m.subscriberStatuses[subscriber.status]}</dd>
        <dt>{m.topicsHeading}</dt>
        <dd safe>{topics}</dd>
        <dt>{m.themesHeading}</dt>
        <dd safe>{themes}</dd>
        <dt>{m.signedUp}</dt>
        <dd safe>{day(subscriber.createdAt)}</dd>
        <dt>{m.confirmedOn}</dt>
        <dd safe>{day(subscriber.confirmedAt)}</dd>
        <dt>{m.unsubscribedOn}</dt>
        <dd safe>{day(subscriber.unsubscribedAt)}</dd>
      </dl>
      <h2>{m.consentHeading}</h2>
      <ol>
        {props.events.map((event) => (
          <li safe>{m.consentLine(dates.moment(event.at, zone), event.kind, event.source)}</li>
        ))}
      </ol>
      <p>
        <a href={`${here}/export.json`} download="">
          {m.exportJson}
        </a>
      </p>
      {organiser ? (
        <>
          {subscriber.status === 'unsubscribed' ? (
            ''
          ) : (
            <>
              <p class="note">{m.unsubscribeNote}</p>
              <ActionForm action={`${here}/unsubscribe`} csrf={props.frame.csrf} button={m.unsubscribeThem} secondary />
            </>
          )}
          <p>
            <a class="button" href={`${here}/erase`}>
              {m.erase}
            </a>
          </p>
        </>
      ) : (
        ''
      )}
    </ConsoleFrame>
  );
}

export function ErasePage(props: { frame: ConsoleFrameData; subscriber: Subscriber }) {
  const here = `${base(props.frame)}/${props.subscriber.id}`;
  return (
    <ConsoleFrame title={m.eraseTitle(props.subscriber.email)} frame={props.frame} section="subscribers">
      <p>{m.eraseIntro}</p>
      <ActionForm action={`${here}/erase`} csrf={props.frame.csrf} button={m.eraseConfirm} />
      <p>
        <a href={here}>{m.keepThem}</a>
      </p>
    </ConsoleFrame>
  );
}

export function SuppressionsPage(props: {
  frame: ConsoleFrameData;
  entries: SuppressionEntry[];
  zone: string;
  done?: string | null;
  error?: string | null;
  note?: { email: string; text: string; error: string } | null;
}) {
  const organiser = props.frame.current!.role !== 'viewer';
  const action = `/console/${props.frame.current!.clusterSlug}/suppressions/lift`;
  return (
    <ConsoleFrame title={m.suppressions} frame={props.frame} section="subscribers" done={props.done} error={props.error}>
      <p>{m.suppressionsIntro}</p>
      {props.entries.length === 0 ? <p>{m.noSuppressions}</p> : ''}
      <ul class="cards">
        {props.entries.map((entry, index) => {
          const noteId = `note-${index}`;
          const failed = props.note && entry.email === props.note.email ? props.note : null;
          return (
            <li>
              <strong safe>{entry.email ?? m.erasedAddress}</strong>
              <br />
              <span safe>{m.suppressionLine(entry.reason, m.suppressionScopes[entry.scope], dates.day(entry.createdAt, props.zone))}</span>
              {entry.detail ? (
                <p class="slot" safe>
                  {entry.detail}
                </p>
              ) : (
                ''
              )}
              {organiser && entry.email && entry.reason !== 'erased' ? (
                <form method="post" action={action}>
                  <input type="hidden" name="_csrf" value={props.frame.csrf} />
                  <input type="hidden" name="email" value={entry.email} />
                  <label for={noteId}>{m.liftNote}</label>
                  {failed ? (
                    <p class="field-error" id={`${noteId}-error`} safe>
                      {failed.error}
                    </p>
                  ) : (
                    ''
                  )}
                  <input
                    id={noteId}
                    name="note"
                    type="text"
                    maxlength="500"
                    required
                    value={failed?.text ?? ''}
                    aria-invalid={failed ? 'true' : undefined}
                    aria-describedby={failed ? `${noteId}-error` : undefined}
                  />
                  <p>
                    <button type="submit" class="secondary" aria-label={m.about(m.lift, entry.email)}>
                      {m.lift}
                    </button>
                  </p>
                </form>
              ) : (
                ''
              )}
            </li>
          );
        })}
      </ul>
    </ConsoleFrame>
  );
}
