// Check-in at the door: `/console/{cluster}/huddles/{id}/checkin` lists the people expected (registered,
// or pitching), with one button each to check them in (or undo it), and finds any other member of the
// cluster by name for a walk-in. A small page, each tap a plain form POST that comes back to the same
// place in the list: it works on a phone, on a slow connection, without JavaScript.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Huddle, Member } from '../../db/schema.js';
import { isId } from '../../lib/ids.js';
import { formField } from '../../lib/page.js';
import { messages } from '../../shared/messages.js';
import { consoleActor } from '../../shared/principals.js';
import type { BookingsService } from '../bookings/bookings.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { MembersService } from '../members/members.service.js';
import type { RegistrationsService } from '../registrations/registrations.service.js';
import type { ConsoleContext, InCluster } from './console.context.js';
import { ConsoleFrame, type ConsoleFrameData } from './console.views.js';

const m = messages.console;

interface DoorPerson {
  member: Member;
  why: keyof typeof m.whyExpected | null;
  checkedIn: boolean;
}

function PersonLine(props: { person: DoorPerson; action: string; csrf: string; q: string; canChange: boolean }) {
  const { member, why, checkedIn } = props.person;
  return (
    <li id={`m-${member.id}`}>
      <strong safe>{member.name}</strong> <span safe>{member.organisation}</span>
      {why ? <span class="tag">{m.whyExpected[why]}</span> : ''}
      <br />
      {checkedIn ? <span class="done">{m.checkedIn}</span> : ''}
      {props.canChange ? (
        <form method="post" action={`${props.action}/${member.id}`} class="action">
          <input type="hidden" name="_csrf" value={props.csrf} />
          <input type="hidden" name="q" value={props.q} />
          {checkedIn ? <input type="hidden" name="undo" value="yes" /> : ''}
          <button
            type="submit"
            class={checkedIn ? 'secondary' : undefined}
            aria-label={m.about(checkedIn ? m.undo : m.checkInButton, member.name)}
          >
            {checkedIn ? m.undo : m.checkInButton}
          </button>
        </form>
      ) : (
        ''
      )}
    </li>
  );
}

function CheckInPage(props: {
  frame: ConsoleFrameData;
  huddle: Huddle;
  q: string;
  expected: DoorPerson[];
  others: DoorPerson[] | null;
  /** Over the whole list, whatever the search shows: everyone checked in, and those expected (registered or pitching). */
  counts: { checkedIn: number; expected: number };
  error?: string | null;
}) {
  const { huddle, q } = props;
  const base = `/console/${props.frame.current!.clusterSlug}/huddles/${huddle.id}`;
  const action = `${base}/checkin`;
  const canChange = props.frame.current!.role !== 'viewer' && huddle.status === 'published';
  const done =
    props.expected.filter((person) => person.checkedIn).length + (props.others ?? []).filter((person) => person.checkedIn).length;
  const line = (person: DoorPerson) => <PersonLine person={person} action={action} csrf={props.frame.csrf} q={q} canChange={canChange} />;
  return (
    <ConsoleFrame title={m.checkInTitle(huddle.title)} frame={props.frame} section="dashboard" error={props.error}>
      <p>
        <a href={base} safe>
          {huddle.title}
        </a>
      </p>
      {huddle.status === 'published' ? '' : <p class="note">{m.checkInNotPublished}</p>}
      <p role="status" safe>
        {m.checkedInCount(done, props.counts.expected)}
      </p>
      <form method="get" action={action} class="inline">
        <span>
          <label for="q">{m.checkInSearch}</label>
          <input id="q" name="q" type="search" value={q} maxlength="200" />
        </span>
        <button type="submit">{m.find}</button>
      </form>
      <h2>{m.expected}</h2>
      {props.expected.length === 0 ? <p>{m.nobodyExpected}</p> : ''}
      <ul class="cards">{props.expected.map(line)}</ul>
      {props.others ? (
        <>
          <h2>{m.others}</h2>
          {props.others.length === 0 ? <p>{m.noOthers}</p> : ''}
          <ul class="cards">{props.others.map(line)}</ul>
        </>
      ) : (
        ''
      )}
    </ConsoleFrame>
  );
}

export function consoleCheckInRoutes(
  app: FastifyInstance,
  context: ConsoleContext,
  deps: {
    bookings: BookingsService;
    registrations: RegistrationsService;
    members: MembersService;
    clusters: ClustersService;
    huddleOf: (here: InCluster, request: FastifyRequest, reply: FastifyReply) => Huddle | null;
  },
) {
  const { registrations, members } = deps;

  /** Everyone expected at the door (registered or pitching), and, for a search, the other members it finds. */
  function doorList(here: InCluster, huddle: Huddle, q: string) {
    const came = new Set(registrations.attendance.inHuddles([huddle.id]).map((row) => row.memberId));
    const expected = new Map<string, DoorPerson>();
    for (const { registration, member } of registrations.forHuddle(huddle.id)) {
      if (registration.status === 'registered') expected.set(member.id, { member, why: 'registered', checkedIn: came.has(member.id) });
    }
    for (const { member } of deps.bookings.forHuddle(huddle.id, 'confirmed')) {
      const known = expected.get(member.id);
      expected.set(member.id, { member, why: known ? 'both' : 'pitching', checkedIn: came.has(member.id) });
    }
    // Walk-ins already checked in are on the list too, so a tap can be undone.
    const walkIns = [...came].filter((id) => !expected.has(id));
    for (const member of members.getMany(app.db, walkIns).values()) expected.set(member.id, { member, why: null, checkedIn: true });
    const counts = { checkedIn: came.size, expected: [...expected.values()].filter((person) => person.why !== null).length };
    const needle = q.toLowerCase();
    const matches = (member: Member) =>
      !needle || [member.name, member.email, member.organisation].some((text) => text.toLowerCase().includes(needle));
    const list = [...expected.values()]
      .filter((person) => matches(person.member))
      .sort((a, b) => a.member.name.localeCompare(b.member.name));
    const others = q
      ? members
          .list(deps.clusters.getById(here.principal.clusterId), { search: q, status: 'active', limit: 20 })
          .items.filter((member) => !expected.has(member.id))
          .map((member) => ({ member, why: null, checkedIn: false }))
      : null;
    return { expected: list, others, counts };
  }

  function show(reply: FastifyReply, here: InCluster, huddle: Huddle, q: string, error: string | null = null, status = 200) {
    const { expected, others, counts } = doorList(here, huddle, q);
    return context
      .noStore(reply)
      .code(status)
      .html(<CheckInPage frame={here.frame} huddle={huddle} q={q} expected={expected} others={others} counts={counts} error={error} />);
  }

  const queryOf = (value: unknown) => (typeof value === 'string' ? value.trim().slice(0, 200) : '');

  app.get('/console/:cluster/huddles/:id/checkin', { schema: { hide: true } }, async (request, reply) => {
    const here = context.inCluster(request, reply);
    const huddle = here && deps.huddleOf(here, request, reply);
    if (!here || !huddle) return reply;
    return show(reply, here, huddle, queryOf((request.query as { q?: unknown }).q));
  });

  context.action(
    '/console/:cluster/huddles/:id/checkin/:member',
    {
      changes: true,
      refuse: (reply, here, request, error, status) => {
        const huddle = deps.huddleOf(here, request, reply);
        return huddle ? show(reply, here, huddle, queryOf(formField(request, 'q')), error, status) : reply;
      },
    },
    (here, request, reply) => {
      const huddle = deps.huddleOf(here, request, reply);
      if (!huddle) return reply;
      const id = (request.params as { member: string }).member;
      const member = isId(id) ? members.byId(id) : undefined;
      const q = queryOf(formField(request, 'q'));
      if (!member || member.clusterId !== here.principal.clusterId) return show(reply, here, huddle, q, m.memberNotFound, 404);
      const actor = consoleActor(here.principal);
      if (formField(request, 'undo') === 'yes') registrations.attendance.undo(huddle, member, actor);
      else registrations.attendance.checkIn(huddle, member, actor);
      const back = `/console/${here.principal.clusterSlug}/huddles/${huddle.id}/checkin${q ? `?q=${encodeURIComponent(q)}` : ''}#m-${member.id}`;
      return reply.redirect(back, 303);
    },
  );
}
