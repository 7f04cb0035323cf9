// The organiser console's pages as components (pure): the frame every console page shares (where you
// are, your clusters, sign-out), choosing a cluster, and your API keys and sessions. Every form is a
// POST with the session's CSRF token; a viewer sees the pages without the forms that change things.
import type { Children } from '@kitajs/html';
import { ActionForm } from '../../shared/forms.js';
import { Layout } from '../../shared/layout.js';
import { browserName, dates, messages } from '../../shared/messages.js';
import type { ConsoleRole, ConsoleSession } from '../../shared/principals.js';

const m = messages.console;

/** What every console page knows: who is signed in, the cluster shown (if one), the form token. */
export interface ConsoleFrameData {
  session: ConsoleSession;
  current: ConsoleRole | null;
  csrf: string;
}

export type ConsoleSection = 'dashboard' | 'members' | 'subscribers' | 'newsletters' | 'report' | 'audit' | 'keys';

const SECTIONS: { section: ConsoleSection; path: string; label: string }[] = [
  { section: 'dashboard', path: '', label: m.dashboard },
  { section: 'members', path: '/members', label: m.members },
  { section: 'subscribers', path: '/subscribers', label: m.subscribers },
  { section: 'newsletters', path: '/newsletters', label: m.newsletters },
  { section: 'report', path: '/report', label: m.report },
  { section: 'audit', path: '/audit', label: m.audit },
  { section: 'keys', path: '/keys', label: m.keys },
];

export function ConsoleFrame(props: {
  title: string;
  frame: ConsoleFrameData;
  section?: ConsoleSection;
  done?: string | null;
  error?: string | null;
  children?: Children;
}) {
  const { session, current, csrf } = props.frame;
  const me = current ?? session.roles[0]!;
  const others = session.roles.filter((role) => role.clusterSlug !== current?.clusterSlug);
  return (
    <Layout
      title={props.title}
      within={current?.clusterName ?? m.title}
      noindex
      header={
        <nav class="console-nav" aria-label={m.nav}>
          <p class="note" safe>
            {m.signedInAs(me.name, session.email)}
          </p>
          {current ? (
            <ul>
              <li>
                <strong safe>{current.clusterName}</strong>
              </li>
              {SECTIONS.map((item) => (
                <li>
                  <a
                    href={`/console/${current.clusterSlug}${item.path}`}
                    aria-current={item.section === props.section ? 'page' : undefined}
                    safe
                  >
                    {item.label}
                  </a>
                </li>
              ))}
            </ul>
          ) : (
            ''
          )}
          {others.length > 0 ? (
            <ul aria-label={m.switchTo}>
              <li>{m.switchTo}:</li>
              {others.map((role) => (
                <li>
                  <a href={`/console/${role.clusterSlug}`} safe>
                    {role.clusterName}
                  </a>
                </li>
              ))}
            </ul>
          ) : (
            ''
          )}
          <ActionForm action="/console/signout" csrf={csrf} button={m.signOut} secondary />
        </nav>
      }
    >
      <h1 safe>{props.title}</h1>
      {current?.role === 'viewer' ? <p class="note">{m.viewerNote}</p> : ''}
      {props.done ? (
        <p class="done" role="status" safe>
          {props.done}
        </p>
      ) : (
        ''
      )}
      {props.error ? (
        <p class="error" role="alert" safe>
          {props.error}
        </p>
      ) : (
        ''
      )}
      {props.children}
    </Layout>
  );
}

/** The clusters a person may open; also the answer to a cluster that is not theirs. */
export function ClusterChoicePage(props: { frame: ConsoleFrameData; notYours?: boolean }) {
  return (
    <ConsoleFrame title={props.notYours ? m.notYours : m.clusters} frame={props.frame}>
      {props.notYours ? <p>{m.notYoursText}</p> : ''}
      <ul class="cards">
        {props.frame.session.roles.map((role) => (
          <li>
            <a href={`/console/${role.clusterSlug}`} safe>
              {role.clusterName}
            </a>{' '}
            <span>({m.roleNames[role.role]})</span>
          </li>
        ))}
      </ul>
    </ConsoleFrame>
  );
}

export interface KeysData {
  frame: ConsoleFrameData;
  now: Date;
  keys: { id: string; prefix: string; createdAt: Date; expiresAt: Date | null; lastUsedAt: Date | null; revokedAt: Date | null }[];
  sessions: { id: string; userAgent: string | null; createdAt: Date; lastUsedAt: Date | null }[];
  /** A key just made: shown this once. */
  newKey?: { key: string; expiresAt: Date } | null;
  done?: string | null;
  error?: string | null;
  days?: string;
}

function keyStatus(key: KeysData['keys'][number], now: Date, zone: string): string {
  if (key.revokedAt) return m.keyRevoked(dates.day(key.revokedAt, zone));
  if (key.expiresAt && key.expiresAt <= now) return m.keyExpired;
  return m.keyActive;
}

export function KeysPage(d: KeysData) {
  const current = d.frame.current!;
  const zone = 'UTC';
  const base = `/console/${current.clusterSlug}`;
  const mayMake = current.role !== 'viewer';
  return (
    <ConsoleFrame title={m.keys} frame={d.frame} section="keys" done={d.done} error={d.error}>
      {d.newKey ? (
        <section aria-labelledby="new-key" class="done">
          <h2 id="new-key">{m.keyMadeTitle}</h2>
          <p>{m.keyMade}</p>
          <p class="secret" safe>
            {d.newKey.key}
          </p>
        </section>
      ) : (
        ''
      )}
      <p>{m.keysIntro}</p>
      {d.keys.length === 0 ? <p>{m.noKeys}</p> : ''}
      <ul class="cards">
        {d.keys.map((key) => {
          const active = !key.revokedAt && !(key.expiresAt && key.expiresAt <= d.now);
          return (
            <li>
              <dl class="facts inline">
                <dt>{m.keyColumns.prefix}</dt>
                <dd>
                  <code safe>{key.prefix}</code>
                </dd>
                <dt>{m.keyColumns.created}</dt>
                <dd safe>{dates.day(key.createdAt, zone)}</dd>
                <dt>{m.keyColumns.lastUsed}</dt>
                <dd>{key.lastUsedAt ? dates.day(key.lastUsedAt, zone) : m.keyNeverUsed}</dd>
                <dt>{m.keyColumns.expires}</dt>
                <dd>{key.expiresAt ? dates.day(key.expiresAt, zone) : m.keyNoExpiry}</dd>
                <dt>{m.keyColumns.status}</dt>
                <dd safe>{keyStatus(key, d.now, zone)}</dd>
              </dl>
              {active ? (
                <ActionForm action={`${base}/keys/${key.id}/revoke`} csrf={d.frame.csrf} button={m.revokeKey(key.prefix)} secondary />
              ) : (
                ''
              )}
            </li>
          );
        })}
      </ul>
      {mayMake ? (
        <section aria-labelledby="make-key">
          <h2 id="make-key">{m.newKey}</h2>
          <form method="post" action={`${base}/keys`} novalidate>
            <input type="hidden" name="_csrf" value={d.frame.csrf} />
            <label for="days">{m.validDays}</label>
            <input id="days" name="days" type="number" min="1" max="3650" step="1" required value={d.days ?? '365'} inputmode="numeric" />
            <p>
              <button type="submit">{m.makeKey}</button>
            </p>
          </form>
        </section>
      ) : (
        ''
      )}
      <section aria-labelledby="sessions">
        <h2 id="sessions">{m.sessions}</h2>
        <ul class="cards">
          {d.sessions.map((session) => {
            const here = session.id === d.frame.session.sessionId;
            return (
              <li>
                <span safe>
                  {messages.me.started(dates.day(session.createdAt, zone), here ? messages.me.thisBrowser : browserName(session.userAgent))}
                </span>
                {here ? (
                  ''
                ) : (
                  <ActionForm
                    action={`${base}/sessions/${session.id}/end`}
                    csrf={d.frame.csrf}
                    button={messages.me.endSession}
                    label={m.about(messages.me.endSession, `${browserName(session.userAgent)}, ${dates.day(session.createdAt, zone)}`)}
                    secondary
                  />
                )}
              </li>
            );
          })}
        </ul>
      </section>
    </ConsoleFrame>
  );
}

/** One of the next huddles with what the dashboard counts about it. */
export interface DashboardHuddle {
  id: string;
  title: string;
  status: 'draft' | 'published' | 'cancelled';
  startsAt: Date;
  timezone: string;
  capacity: number | null;
  slots: number;
  confirmed: number;
  pending: number;
  /** Slots with no pitch and no offer holding them. */
  free: number;
  pitchWaitlist: number;
  offersExpiring: Date[];
  registered: number;
  waitlisted: number;
}

/** What needs the organiser first, most urgent first: pitches to approve, offers about to lapse, a huddle soon with empty slots. */
export function attentionItems(huddles: DashboardHuddle[], now: Date): string[] {
  const soon = now.getTime() + 2 * 86_400_000;
  const items: string[] = [];
  for (const huddle of huddles) {
    if (huddle.status === 'cancelled') continue;
    if (huddle.pending > 0) items.push(m.pendingAt(huddle.pending, huddle.title));
    for (const at of huddle.offersExpiring.filter((expires) => expires.getTime() <= now.getTime() + 86_400_000)) {
      items.push(m.offerLapses(huddle.title, dates.moment(at, huddle.timezone)));
    }
    if (huddle.status === 'published' && huddle.startsAt.getTime() <= soon && huddle.free > 0) {
      items.push(m.soonWithFree(huddle.title, dates.moment(huddle.startsAt, huddle.timezone), huddle.free));
    }
  }
  return items;
}

export function DashboardPage(props: { frame: ConsoleFrameData; now: Date; huddles: DashboardHuddle[] }) {
  const attention = attentionItems(props.huddles, props.now);
  return (
    <ConsoleFrame title={m.dashboard} frame={props.frame} section="dashboard">
      <section aria-labelledby="attention">
        <h2 id="attention">{m.attention}</h2>
        {attention.length === 0 ? (
          <p>{m.nothingUrgent}</p>
        ) : (
          <ul>
            {attention.map((item) => (
              <li safe>{item}</li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="next">
        <h2 id="next">{m.next}</h2>
        {props.frame.current!.role === 'viewer' ? (
          ''
        ) : (
          <p>
            <a class="button" href={`/console/${props.frame.current!.clusterSlug}/huddles/new`}>
              {m.newHuddle}
            </a>
          </p>
        )}
        {props.huddles.length === 0 ? <p>{m.noHuddles}</p> : ''}
        <ul class="cards">
          {props.huddles.map((huddle) => (
            <li class={huddle.status === 'cancelled' ? 'cancelled' : undefined}>
              <a href={`/console/${props.frame.current!.clusterSlug}/huddles/${huddle.id}`} safe>
                {huddle.title}
              </a>
              {huddle.status === 'published' ? '' : <span class="tag">{huddle.status === 'draft' ? m.draft : m.cancelled}</span>}
              <br />
              <span safe>{dates.moment(huddle.startsAt, huddle.timezone)}</span>
              <p class="slot" safe>
                {[
                  m.pitches(huddle.confirmed, huddle.slots),
                  ...(huddle.pending ? [m.pending(huddle.pending)] : []),
                  m.free(huddle.free),
                  ...(huddle.pitchWaitlist ? [m.pitchWaitlist(huddle.pitchWaitlist)] : []),
                ].join('; ')}
              </p>
              <p class="slot" safe>
                {[
                  m.attendance(huddle.registered, huddle.capacity),
                  ...(huddle.waitlisted ? [m.attendanceWaitlist(huddle.waitlisted)] : []),
                ].join('; ')}
              </p>
            </li>
          ))}
        </ul>
      </section>
    </ConsoleFrame>
  );
}
