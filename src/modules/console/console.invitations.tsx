// Invitations in the console: `/console/{cluster}/huddles/{id}/invitations` shows who was invited and
// when, and invites the cluster's members, the subscribers to invitations, or a pasted list of addresses
// (every line checked before anyone is emailed). The invitations service does the work, as for the API.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Huddle, Invitation } from '../../db/schema.js';
import { isAppError } from '../../errors.js';
import { formField } from '../../lib/page.js';
import { parseMailbox } from '../../lib/text.js';
import { dates, messages } from '../../shared/messages.js';
import { problemInWords } from '../../shared/pages.js';
import { consoleActor } from '../../shared/principals.js';
import type { HuddlesService } from '../huddles/huddles.service.js';
import { AUDIENCES, MAX_ADDRESSES, type InvitationsService } from '../invitations/invitations.service.js';
import type { ConsoleContext, InCluster } from './console.context.js';
import { ConsoleFrame, type ConsoleFrameData } from './console.views.js';

const m = messages.console;

interface InviteForm {
  audience: string;
  addresses: string;
}

function InvitationsPage(props: {
  frame: ConsoleFrameData;
  huddle: Huddle;
  invited: Invitation[];
  form: InviteForm;
  done?: string | null;
  error?: string | null;
}) {
  const { huddle, form } = props;
  const path = `/console/${props.frame.current!.clusterSlug}/huddles/${huddle.id}`;
  const open = props.frame.current!.role !== 'viewer' && huddle.status === 'published';
  const choices = [
    ['', m.inviteNobody],
    ['members', m.inviteMembers],
    ['subscribers', m.inviteSubscribers],
  ] as const;
  return (
    <ConsoleFrame title={`${m.invitations}: ${huddle.title}`} frame={props.frame} section="dashboard" done={props.done} error={props.error}>
      <p>
        <a href={path} safe>
          {huddle.title}
        </a>
      </p>
      <p>{m.invitationsIntro}</p>
      {huddle.status === 'draft' ? <p class="note">{m.notPublished}</p> : ''}
      {open ? (
        <form method="post" action={`${path}/invitations`}>
          <input type="hidden" name="_csrf" value={props.frame.csrf} />
          <fieldset>
            <legend>{m.inviteWho}</legend>
            {choices.map(([value, label], index) => (
              <label class="choice">
                <input type="radio" name="audience" value={value} id={`audience-${index}`} checked={form.audience === value} /> {label}
              </label>
            ))}
          </fieldset>
          <label for="addresses">{m.inviteAddresses}</label>
          <textarea id="addresses" name="addresses" rows="5" safe>
            {form.addresses}
          </textarea>
          <p>
            <button type="submit">{m.inviteSend}</button>
          </p>
        </form>
      ) : (
        ''
      )}
      <h2 safe>{m.invitedList(props.invited.length)}</h2>
      {props.invited.length === 0 ? <p>{m.nobodyInvited}</p> : ''}
      <ul>
        {props.invited.map((person) => (
          <li safe>
            {m.invitedLine(
              person.name ? `${person.name} <${person.email}>` : person.email,
              m.inviteSources[person.source as keyof typeof m.inviteSources] ?? person.source,
              dates.moment(person.createdAt, huddle.timezone),
            )}
          </li>
        ))}
      </ul>
    </ConsoleFrame>
  );
}

/** The pasted addresses, one a line, or the lines that are not an address. */
function readAddresses(text: string): { addresses: { email: string; name?: string }[]; bad: string[] } {
  const addresses: { email: string; name?: string }[] = [];
  const bad: string[] = [];
  for (const line of text.split(/\r?\n/).map((l) => l.trim())) {
    if (line === '') continue;
    const mailbox = parseMailbox(line);
    if (!mailbox) bad.push(line.slice(0, 100));
    else addresses.push({ email: mailbox.address, ...(mailbox.name ? { name: mailbox.name.slice(0, 200) } : {}) });
  }
  return { addresses, bad };
}

export function consoleInvitationRoutes(
  app: FastifyInstance,
  context: ConsoleContext,
  deps: {
    huddles: HuddlesService;
    invitations: InvitationsService;
    huddleOf: (here: InCluster, request: FastifyRequest, reply: FastifyReply) => Huddle | null;
  },
) {
  const { noStore, inCluster } = context;
  const { invitations } = deps;

  function show(
    reply: FastifyReply,
    here: InCluster,
    huddle: Huddle,
    extra: { form?: InviteForm; done?: string; error?: string },
    status = 200,
  ) {
    const invited = invitations.list(huddle.id).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    return noStore(reply)
      .code(status)
      .html(
        <InvitationsPage
          frame={here.frame}
          huddle={huddle}
          invited={invited}
          form={extra.form ?? { audience: '', addresses: '' }}
          {...extra}
        />,
      );
  }

  app.get('/console/:cluster/huddles/:id/invitations', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    const huddle = here && deps.huddleOf(here, request, reply);
    if (!here || !huddle) return reply;
    const query = request.query as { invited?: unknown; already?: unknown };
    const count = (value: unknown) => (typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : null);
    const [invited, already] = [count(query.invited), count(query.already)];
    return show(reply, here, huddle, { done: invited === null ? undefined : m.invitedDone(invited, already ?? 0) });
  });

  context.action(
    '/console/:cluster/huddles/:id/invitations',
    {
      changes: true,
      refuse: (reply, here, request, error, status) => {
        const huddle = deps.huddleOf(here, request, reply);
        return huddle ? show(reply, here, huddle, { error, form: formOf(request) }, status) : reply;
      },
    },
    (here, request, reply) => {
      const huddle = deps.huddleOf(here, request, reply);
      if (!huddle) return reply;
      const form = formOf(request);
      const audience = (AUDIENCES as readonly string[]).includes(form.audience) ? (form.audience as (typeof AUDIENCES)[number]) : undefined;
      const { addresses, bad } = readAddresses(form.addresses);
      const refuse = (error: string) => show(reply, here, huddle, { error, form }, 400);
      if (bad.length > 0) return refuse(m.inviteBadLines(bad.join(', ')));
      if (addresses.length > MAX_ADDRESSES) return refuse(m.inviteTooMany(MAX_ADDRESSES));
      if (!audience && addresses.length === 0) return refuse(m.inviteNone);
      try {
        const result = invitations.invite(
          huddle,
          { ...(audience ? { audience } : {}), ...(addresses.length ? { addresses } : {}) },
          consoleActor(here.principal),
        );
        const path = `/console/${here.principal.clusterSlug}/huddles/${huddle.id}/invitations`;
        return reply.redirect(`${path}?invited=${result.invited}&already=${result.alreadyInvited}`, 303);
      } catch (error) {
        if (!isAppError(error) || error.statusCode >= 500) throw error;
        return show(reply, here, huddle, { error: problemInWords(error), form }, error.statusCode);
      }
    },
  );

  function formOf(request: FastifyRequest): InviteForm {
    return { audience: formField(request, 'audience') ?? '', addresses: (formField(request, 'addresses') ?? '').slice(0, 100_000) };
  }
}
