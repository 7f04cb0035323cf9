// Scheduling in the console: a new huddle or series from a form (with every occurrence previewed before
// saving), a change to one (the booking guard's "this moves N booked pitches" as a confirmation step),
// publishing a draft, and cancelling with a reason after seeing who will be told. The huddles service
// does the work, as for the API.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Cluster, Huddle } from '../../db/schema.js';
import { isAppError, type AppError } from '../../errors.js';
import { formField } from '../../lib/page.js';
import { cleanParagraphs } from '../../lib/text.js';
import { bodyChecker } from '../../lib/validation.js';
import { messages } from '../../shared/messages.js';
import { problemInWords } from '../../shared/pages.js';
import { consoleActor } from '../../shared/principals.js';
import type { BookingsService } from '../bookings/bookings.service.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import { HuddleCreate, HuddlePatch } from '../huddles/huddles.schemas.js';
import type { HuddlesService } from '../huddles/huddles.service.js';
import type { InvitationsService } from '../invitations/invitations.service.js';
import type { RegistrationsService } from '../registrations/registrations.service.js';
import type { ConsoleContext, InCluster } from './console.context.js';
import {
  createBody,
  fieldOfPath,
  FIELDS_WITH_ERRORS,
  huddleValues,
  newHuddleValues,
  patchBody,
  ruleOf,
  submittedValues,
  type FieldErrors,
  type HuddleFormValues,
} from './console.huddle-form.js';
import { CancelHuddlePage, HuddleFormPage, type HuddleFormPageData } from './console.huddle-form-views.js';

const m = messages.console;
const checkCreate = bodyChecker(HuddleCreate);
const checkPatch = bodyChecker(HuddlePatch);

export interface HuddleEditDeps {
  huddles: HuddlesService;
  clusters: ClustersService;
  bookings: BookingsService;
  registrations: RegistrationsService;
  invitations: InvitationsService;
  huddleOf: (here: InCluster, request: FastifyRequest, reply: FastifyReply) => Huddle | null;
}

export function consoleHuddleEditRoutes(app: FastifyInstance, context: ConsoleContext, deps: HuddleEditDeps) {
  const { huddles } = deps;
  const { noStore, inCluster } = context;
  const clusterOf = (here: InCluster): Cluster => deps.clusters.getById(here.principal.clusterId);
  const huddlePath = (here: InCluster, id: string) => `/console/${here.principal.clusterSlug}/huddles/${id}`;

  function showForm(reply: FastifyReply, here: InCluster, data: Omit<HuddleFormPageData, 'frame' | 'zone' | 'themes'>, status = 200) {
    const cluster = clusterOf(here);
    return noStore(reply)
      .code(status)
      .html(<HuddleFormPage frame={here.frame} zone={data.huddle?.timezone ?? cluster.timezone} themes={cluster.themes} {...data} />);
  }

  /** A service's refusal against the field it is about, or for the whole form. */
  function refusalOf(error: AppError, errors: FieldErrors): string | null {
    const field = fieldOfPath(error.errors?.[0]?.field);
    if (field && FIELDS_WITH_ERRORS.includes(field)) {
      errors[field] = problemInWords(error);
      return null;
    }
    return problemInWords(error);
  }

  /** The API schema's own checks on a body the form built (lengths, links, characters): refusals against their fields. */
  function schemaRefusals(
    check: (body: unknown) => { field: string; message: string }[],
    body: unknown,
    errors: FieldErrors,
  ): string | null {
    const failures = check(body);
    const unplaced: string[] = [];
    for (const failure of failures) {
      const field = fieldOfPath(failure.field);
      if (field && FIELDS_WITH_ERRORS.includes(field)) errors[field] ??= m.form.notAccepted(failure.message);
      else unplaced.push(`${failure.field} ${failure.message}`);
    }
    return unplaced.length > 0 ? m.form.notAccepted(unplaced.join('; ')) : null;
  }

  app.get('/console/:cluster/huddles/new', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    if (!here || context.viewerStop(here, reply, m.newHuddle)) return reply;
    return showForm(reply, here, { huddle: null, values: newHuddleValues(clusterOf(here), app.clock.now()), errors: {} });
  });

  context.action(
    '/console/:cluster/huddles/new',
    {
      changes: true,
      refuse: (reply, here, request, error, status) =>
        showForm(reply, here, { huddle: null, values: submittedValues(request), errors: {}, error }, status),
    },
    (here, request, reply) => {
      const values = submittedValues(request);
      const { body, errors } = createBody(values);
      const rrule = ruleOf(values, errors);
      const unplaced = Object.keys(errors).length > 0 ? null : schemaRefusals(checkCreate, body, errors);
      if (unplaced || Object.keys(errors).length > 0) return showForm(reply, here, { huddle: null, values, errors, error: unplaced }, 400);
      const cluster = clusterOf(here);
      const intent = formField(request, 'intent');
      try {
        if (intent !== 'draft' && intent !== 'publish') {
          const preview = huddles.previewSeries(cluster, { rrule: rrule ?? 'FREQ=WEEKLY;COUNT=1', template: body });
          return showForm(reply, here, { huddle: null, values, errors, preview: { ...preview, zone: preview.timezone } });
        }
        const status = intent === 'publish' ? 'published' : 'draft';
        const actor = consoleActor(here.principal);
        if (rrule) {
          const made = huddles.createSeries(cluster, { rrule, template: body, status }, actor);
          return reply.redirect(`${huddlePath(here, made.huddles[0]!.id)}?done=series&n=${made.huddles.length}`, 303);
        }
        const made = huddles.create(cluster, { ...body, status }, actor);
        return reply.redirect(`${huddlePath(here, made.id)}?done=${status === 'published' ? 'published' : 'created'}`, 303);
      } catch (error) {
        if (!isAppError(error) || error.statusCode >= 500) throw error;
        return showForm(reply, here, { huddle: null, values, errors, error: refusalOf(error, errors) }, error.statusCode);
      }
    },
  );

  app.get('/console/:cluster/huddles/:id/edit', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    const huddle = here && deps.huddleOf(here, request, reply);
    if (!here || !huddle || context.viewerStop(here, reply, m.editHuddle(huddle.title))) return reply;
    if (huddle.status === 'cancelled') return reply.redirect(huddlePath(here, huddle.id), 303);
    return showForm(reply, here, { huddle, values: huddleValues(huddle), errors: {} });
  });

  const editRefusal = (reply: FastifyReply, here: InCluster, request: FastifyRequest, error: string, status: number) => {
    const huddle = deps.huddleOf(here, request, reply);
    return huddle ? showForm(reply, here, { huddle, values: submittedValues(request), errors: {}, error }, status) : reply;
  };

  context.action('/console/:cluster/huddles/:id/edit', { changes: true, refuse: editRefusal }, (here, request, reply) => {
    const huddle = deps.huddleOf(here, request, reply);
    if (!huddle) return reply;
    const values: HuddleFormValues = submittedValues(request);
    const { body, errors } = patchBody(values, huddleValues(huddle));
    const scope = formField(request, 'scope') === 'following' ? 'following' : 'this';
    // Nothing changed: nothing to save, and nobody to tell.
    if (Object.keys(errors).length === 0 && Object.keys(body).length === 0)
      return reply.redirect(`${huddlePath(here, huddle.id)}?done=saved`, 303);
    const unplaced = Object.keys(errors).length > 0 ? null : schemaRefusals(checkPatch, body, errors);
    if (unplaced || Object.keys(errors).length > 0) return showForm(reply, here, { huddle, values, errors, scope, error: unplaced }, 400);
    try {
      huddles.update({
        huddleId: huddle.id,
        cluster: clusterOf(here),
        body,
        scope,
        actor: consoleActor(here.principal),
        bookings: formField(request, 'bookings') === 'move' ? 'move' : 'refuse',
      });
    } catch (error) {
      if (!isAppError(error) || error.statusCode >= 500) throw error;
      // The booking guard: moving booked pitches is a step to confirm, not a dead end.
      if (error.code === 'BOOKINGS_AFFECTED' && error.affected) {
        return showForm(reply, here, { huddle, values, errors, scope, movesPitches: error.affected }, 409);
      }
      return showForm(reply, here, { huddle, values, errors, scope, error: refusalOf(error, errors) }, error.statusCode);
    }
    return reply.redirect(`${huddlePath(here, huddle.id)}?done=saved`, 303);
  });

  context.action('/console/:cluster/huddles/:id/publish', { changes: true, refuse: editRefusal }, (here, request, reply) => {
    const huddle = deps.huddleOf(here, request, reply);
    if (!huddle) return reply;
    huddles.update({
      huddleId: huddle.id,
      cluster: clusterOf(here),
      body: { status: 'published' },
      scope: 'this',
      actor: consoleActor(here.principal),
      bookings: 'refuse',
    });
    return reply.redirect(`${huddlePath(here, huddle.id)}?done=published`, 303);
  });

  /** Who a cancellation tells: the pitchers, the registered attendees and everyone invited. */
  function toldOf(huddle: Huddle) {
    const pitches = deps.bookings.tally([huddle.id]).get(huddle.id)!;
    const places = deps.registrations.tally([huddle.id]).get(huddle.id)!;
    return {
      pitchers: pitches.confirmed + pitches.pending,
      attendees: places.registered + places.waitlisted,
      invited: deps.invitations.list(huddle.id).length,
    };
  }

  function showCancel(reply: FastifyReply, here: InCluster, huddle: Huddle, reason: string, error: string | null = null, status = 200) {
    return noStore(reply)
      .code(status)
      .html(<CancelHuddlePage frame={here.frame} huddle={huddle} told={toldOf(huddle)} reason={reason} error={error} />);
  }

  app.get('/console/:cluster/huddles/:id/cancel', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    const huddle = here && deps.huddleOf(here, request, reply);
    if (!here || !huddle || context.viewerStop(here, reply, m.cancelTitle(huddle.title))) return reply;
    if (huddle.status === 'cancelled') return reply.redirect(huddlePath(here, huddle.id), 303);
    return showCancel(reply, here, huddle, '');
  });

  context.action(
    '/console/:cluster/huddles/:id/cancel',
    {
      changes: true,
      refuse: (reply, here, request, error, status) => {
        const huddle = deps.huddleOf(here, request, reply);
        return huddle ? showCancel(reply, here, huddle, formField(request, 'reason') ?? '', error, status) : reply;
      },
    },
    (here, request, reply) => {
      const huddle = deps.huddleOf(here, request, reply);
      if (!huddle) return reply;
      const reason = cleanParagraphs(formField(request, 'reason') ?? '', 1000);
      if (reason.length < 3) return showCancel(reply, here, huddle, reason, m.reasonMissing, 400);
      huddles.cancel({
        huddleId: huddle.id,
        cluster: clusterOf(here),
        reason,
        scope: formField(request, 'scope') === 'following' ? 'following' : 'this',
        actor: consoleActor(here.principal),
      });
      return reply.redirect(`${huddlePath(here, huddle.id)}?done=cancelled`, 303);
    },
  );
}
