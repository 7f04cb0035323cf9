// Members in the console: `/console/{cluster}/members` lists and searches them; organisers add one, upload
// a CSV (checked and shown row by row before anything is saved; the file's text travels with the
// confirming form, so nothing waits on the server between the two steps), and suspend a member after
// seeing what it will do to their pitches and waitlist places, or reactivate them. The members service
// does the work, as for the API and the command line.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { isAppError, problem } from '../../errors.js';
import { isId } from '../../lib/ids.js';
import { formField } from '../../lib/page.js';
import { cleanName, isEmailAddress } from '../../lib/text.js';
import { strictUtf8 } from '../../lib/utf8.js';
import { ORGANISATION_TYPES, type Member, type OrganisationType } from '../../db/schema.js';
import { messages } from '../../shared/messages.js';
import { consoleActor } from '../../shared/principals.js';
import { isActiveBooking } from '../bookings/bookings.rules.js';
import type { BookingsService } from '../bookings/bookings.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import { parseMembersCsv } from '../members/members.import.js';
import type { MembersService } from '../members/members.service.js';
import type { WaitlistService } from '../waitlist/waitlist.service.js';
import type { ConsoleContext, InCluster, ShowRefusal } from './console.context.js';
import {
  AddMemberPage,
  ImportDonePage,
  ImportPage,
  ImportPreviewPage,
  MemberPage,
  MembersPage,
  SuspendPage,
  type MemberFormValues,
} from './console.member-views.js';
import { ConsoleFrame } from './console.views.js';

const m = messages.console;
const PAGE = 50;
/** A members CSV of MAX_IMPORT_ROWS rows fits in this, with room. */
export const MAX_CSV_BYTES = 3 * 1024 * 1024;

/**
 * The fields and the file of an upload, read part by part within limits: a body that is not readable
 * multipart, a file or a field too large (never cut short silently) is a refusal in words.
 */
async function readUpload(request: FastifyRequest): Promise<Record<string, string | Buffer>> {
  const fields: Record<string, string | Buffer> = {};
  try {
    for await (const part of request.parts({
      limits: { files: 1, fileSize: MAX_CSV_BYTES, fields: 5, fieldSize: MAX_CSV_BYTES, parts: 6 },
    })) {
      if (part.type === 'file') {
        fields[part.fieldname] = await part.toBuffer();
      } else {
        if (part.valueTruncated) throw problem('BODY_TOO_LARGE');
        if (typeof part.value === 'string') fields[part.fieldname] = part.value;
      }
    }
  } catch (error) {
    if (isAppError(error)) throw error;
    const status = (error as { statusCode?: number }).statusCode;
    throw status === 413 ? problem('BODY_TOO_LARGE') : problem('VALIDATION_FAILED', m.uploadUnreadable);
  }
  return fields;
}

type MemberDone = 'added' | 'suspended' | 'reactivated';
const DONE: Record<MemberDone, string> = { added: m.memberAdded, suspended: m.suspended, reactivated: m.reactivated };

export function consoleMemberRoutes(
  app: FastifyInstance,
  context: ConsoleContext,
  deps: { members: MembersService; clusters: ClustersService; bookings: BookingsService; waitlist: WaitlistService },
) {
  const { members, clusters } = deps;
  const { noStore, inCluster } = context;
  const clusterOf = (here: InCluster) => clusters.getById(here.principal.clusterId);
  const doneOf = (request: FastifyRequest) => {
    const done = (request.query as { done?: unknown }).done;
    return typeof done === 'string' && Object.hasOwn(DONE, done) ? DONE[done as MemberDone] : null;
  };

  /** The cluster's member of the request, or null after answering 404 in the console's frame. */
  function memberOf(here: InCluster, request: FastifyRequest, reply: FastifyReply): Member | null {
    const id = (request.params as { id: string }).id;
    const member = isId(id) ? members.byId(id) : undefined;
    if (member && member.clusterId === here.principal.clusterId) return member;
    void noStore(reply)
      .code(404)
      .html(
        <ConsoleFrame title={m.memberNotFound} frame={here.frame} section="members">
          <p>
            <a href={`/console/${here.principal.clusterSlug}/members`}>{m.members}</a>
          </p>
        </ConsoleFrame>,
      );
    return null;
  }

  app.get('/console/:cluster/members', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    if (!here) return reply;
    const query = request.query as Record<string, unknown>;
    const q = typeof query.q === 'string' ? query.q.trim().slice(0, 200) : '';
    const status = query.status === 'active' || query.status === 'suspended' ? query.status : '';
    const cursor = typeof query.cursor === 'string' ? query.cursor : undefined;
    let page;
    try {
      page = members.list(clusterOf(here), { search: q || undefined, status: status || undefined, cursor, limit: PAGE });
    } catch (error) {
      if (!isAppError(error) || error.statusCode >= 500) throw error;
      page = members.list(clusterOf(here), { search: q || undefined, status: status || undefined, limit: PAGE });
    }
    const more = page.nextCursor ? `?${new URLSearchParams({ q, status, cursor: page.nextCursor }).toString()}` : null;
    return noStore(reply).html(
      <MembersPage frame={here.frame} q={q} status={status} rows={page.items} more={more} done={doneOf(request)} />,
    );
  });

  const emptyForm: MemberFormValues = { email: '', name: '', organisation: '', organisationType: 'company' };

  app.get('/console/:cluster/members/new', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    if (!here || context.viewerStop(here, reply, m.addMember)) return reply;
    return noStore(reply).html(<AddMemberPage frame={here.frame} values={emptyForm} errors={{}} />);
  });

  const refuseAdd: ShowRefusal = (reply, here, request, error, status) =>
    noStore(reply)
      .code(status)
      .html(<AddMemberPage frame={here.frame} values={formValues(request)} errors={{}} error={error} />);

  function formValues(request: FastifyRequest): MemberFormValues {
    const field = (name: keyof MemberFormValues) => (formField(request, name) ?? '').trim();
    return { email: field('email'), name: field('name'), organisation: field('organisation'), organisationType: field('organisationType') };
  }

  context.action('/console/:cluster/members', { changes: true, refuse: refuseAdd }, (here, request, reply) => {
    const values = formValues(request);
    const errors: Partial<Record<keyof MemberFormValues, string>> = {};
    if (!isEmailAddress(values.email)) errors.email = messages.signIn.invalidEmail;
    if (!cleanName(values.name)) errors.name = m.fieldMissing;
    if (!cleanName(values.organisation)) errors.organisation = m.fieldMissing;
    const type = (ORGANISATION_TYPES as readonly string[]).includes(values.organisationType)
      ? (values.organisationType as OrganisationType)
      : 'other';
    if (Object.keys(errors).length > 0)
      return noStore(reply)
        .code(400)
        .html(<AddMemberPage frame={here.frame} values={values} errors={errors} />);
    members.create(
      clusterOf(here),
      { email: values.email, name: values.name, organisation: values.organisation, organisationType: type },
      consoleActor(here.principal),
    );
    return reply.redirect(`/console/${here.principal.clusterSlug}/members?done=added`, 303);
  });

  app.get('/console/:cluster/members/import', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    if (!here || context.viewerStop(here, reply, m.importMembers)) return reply;
    return noStore(reply).html(<ImportPage frame={here.frame} />);
  });

  const refuseImport: ShowRefusal = (reply, here, _request, error, status) =>
    noStore(reply)
      .code(status)
      .html(<ImportPage frame={here.frame} error={error} />);

  // Step one (a file): check it and show every row that would be rejected; step two (confirm, with the
  // file's text): import it. Rows refused at step two (someone added that member meanwhile) are shown.
  // Only this route reads multipart bodies, and only for a browser with a console session; the parts
  // are read by hand so that an unreadable upload is a 400 page, not a fault.
  void app.register(async (upload) => {
    await upload.register(multipart);
    const uploads = context.on(upload);
    upload.addHook('onRequest', async (request, reply) => {
      if (!context.session(request)) return reply.redirect('/console/signin', 303);
    });
    upload.addHook('preValidation', async (request) => {
      request.body = await readUpload(request);
    });
    uploads.action('/console/:cluster/members/import', { changes: true, refuse: refuseImport }, async (here, request, reply) => {
      const body = request.body as Record<string, string | Buffer>;
      const file = body.file;
      const text = Buffer.isBuffer(file) ? strictUtf8(file) : typeof body.csv === 'string' ? body.csv : null;
      if (text === null || text.trim() === '')
        return refuseImport(reply, here, request, Buffer.isBuffer(file) ? m.importNotUtf8 : m.importNoFile, 400);
      const parsed = parseMembersCsv(text);
      if (parsed.error) return refuseImport(reply, here, request, parsed.error, 400);
      const confirm = body.confirm === 'yes';
      const result = await members.importRows(clusterOf(here), parsed, consoleActor(here.principal), { dryRun: !confirm });
      if (!confirm)
        return noStore(reply).html(
          <ImportPreviewPage frame={here.frame} csv={text} imported={result.imported} rejected={result.rejected} />,
        );
      return noStore(reply).html(<ImportDonePage frame={here.frame} imported={result.imported} rejected={result.rejected} />);
    });
  });

  /** The member's plans that suspending would end: pitches to come and places on pitch waitlists. */
  function plansOf(member: Member) {
    const now = app.clock.now();
    return {
      pitches: deps.bookings.forMember(member.id).filter(({ booking, huddle }) => isActiveBooking(booking) && huddle.startsAt > now),
      places: deps.waitlist.forMember(member.id).filter((place) => place.huddle.startsAt > now),
    };
  }

  app.get('/console/:cluster/members/:id', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    const member = here && memberOf(here, request, reply);
    if (!here || !member) return reply;
    return noStore(reply).html(<MemberPage frame={here.frame} member={member} zone={clusterOf(here).timezone} done={doneOf(request)} />);
  });

  app.get('/console/:cluster/members/:id/suspend', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    const member = here && memberOf(here, request, reply);
    if (!here || !member || context.viewerStop(here, reply, m.suspendTitle(member.name))) return reply;
    if (member.status !== 'active') return reply.redirect(`/console/${here.principal.clusterSlug}/members/${member.id}`, 303);
    return noStore(reply).html(<SuspendPage frame={here.frame} member={member} plans={plansOf(member)} />);
  });

  const refuseMember: ShowRefusal = (reply, here, request, error, status) => {
    const member = memberOf(here, request, reply);
    return member
      ? noStore(reply)
          .code(status)
          .html(<MemberPage frame={here.frame} member={member} zone={clusterOf(here).timezone} error={error} />)
      : reply;
  };

  for (const [verb, status, done] of [
    ['suspend', 'suspended', 'suspended'],
    ['reactivate', 'active', 'reactivated'],
  ] as const) {
    context.action(`/console/:cluster/members/:id/${verb}`, { changes: true, refuse: refuseMember }, (here, request, reply) => {
      const member = memberOf(here, request, reply);
      if (!member) return reply;
      members.update(clusterOf(here), member.id, { status }, consoleActor(here.principal));
      return reply.redirect(`/console/${here.principal.clusterSlug}/members/${member.id}?done=${done}`, 303);
    });
  }
}
