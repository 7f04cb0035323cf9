// A huddle in the console: `/console/{cluster}/huddles/{id}` shows its slots with each pitch and the
// forms to approve, reject or move one; the run of show prints from its own page and downloads as CSV.
// The bookings service does the work (and the emails), as for the API's approve, reject and move.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError, problem } from '../../errors.js';
import { isId } from '../../lib/ids.js';
import { formField } from '../../lib/page.js';
import { cleanParagraphs } from '../../lib/text.js';
import { messages } from '../../shared/messages.js';
import { consoleActor } from '../../shared/principals.js';
import type { Huddle } from '../../db/schema.js';
import type { BookingsService } from '../bookings/bookings.service.js';
import { isActiveBooking } from '../bookings/bookings.rules.js';
import { bookingsCsv } from '../bookings/bookings.view.js';
import type { HuddlesService } from '../huddles/huddles.service.js';
import type { InvitationsService } from '../invitations/invitations.service.js';
import type { ConsoleContext, InCluster, ShowRefusal } from './console.context.js';
import { HuddlePage, RunOfShowPage, type SlotLine } from './console.huddle-views.js';
import { ConsoleFrame } from './console.views.js';

const m = messages.console;
type PitchDone = keyof typeof m.pitchDone;

/** What the huddle page says after a form sent the organiser back to it (?done=..., and n for a series). */
function doneOf(request: FastifyRequest): string | null {
  const { done, n } = request.query as { done?: unknown; n?: unknown };
  if (typeof done !== 'string') return null;
  if (Object.hasOwn(m.pitchDone, done)) return m.pitchDone[done as PitchDone];
  const count = typeof n === 'string' && /^\d{1,3}$/.test(n) ? Number(n) : null;
  const words: Record<string, string | null> = {
    created: m.form.created,
    series: count === null ? m.form.created : m.form.seriesCreated(count),
    published: m.form.published,
    saved: m.form.saved,
    cancelled: m.cancelledDone,
  };
  return words[done] ?? null;
}

export function consoleHuddleRoutes(
  app: FastifyInstance,
  context: ConsoleContext,
  deps: { huddles: HuddlesService; bookings: BookingsService; invitations: InvitationsService },
) {
  const { huddles, bookings } = deps;
  const { noStore, inCluster } = context;

  /** The cluster's huddle of the request, or null after answering 404 in the console's frame. */
  function huddleOf(here: InCluster, request: FastifyRequest, reply: FastifyReply): Huddle | null {
    const id = (request.params as { id: string }).id;
    try {
      return huddles.getOwned(id, here.principal.clusterId);
    } catch (error) {
      if (!isAppError(error) || error.code !== 'HUDDLE_NOT_FOUND') throw error;
      void noStore(reply)
        .code(404)
        .html(
          <ConsoleFrame title={m.huddleNotFound} frame={here.frame}>
            <p>{m.huddleNotFoundText}</p>
            <p>
              <a href={`/console/${here.principal.clusterSlug}`}>{m.dashboard}</a>
            </p>
          </ConsoleFrame>,
        );
      return null;
    }
  }

  function showHuddle(reply: FastifyReply, here: InCluster, huddle: Huddle, extra: { done?: string; error?: string }, status = 200) {
    const rows = bookings.forHuddle(huddle.id);
    const taken = bookings.takenSlotIds(huddle.id);
    const lines: SlotLine[] = bookings.slots(huddle.id).map((slot) => {
      const pitch = rows.find((row) => row.slot.id === slot.id && isActiveBooking(row.booking));
      return { slot, pitch: pitch ? { booking: pitch.booking, member: pitch.member } : null, held: !pitch && taken.has(slot.id) };
    });
    const canChange = here.principal.role !== 'viewer' && huddle.status !== 'cancelled' && huddle.startsAt > app.clock.now();
    return noStore(reply)
      .code(status)
      .html(
        <HuddlePage
          frame={here.frame}
          huddle={huddle}
          lines={lines}
          decided={rows.filter((row) => row.booking.status === 'rejected' || row.booking.status === 'cancelled')}
          canChange={canChange}
          invited={deps.invitations.list(huddle.id).length}
          {...extra}
        />,
      );
  }

  app.get('/console/:cluster/huddles/:id', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    const huddle = here && huddleOf(here, request, reply);
    if (!here || !huddle) return reply;
    return showHuddle(reply, here, huddle, { done: doneOf(request) ?? undefined });
  });

  app.get('/console/:cluster/huddles/:id/run-of-show', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    const huddle = here && huddleOf(here, request, reply);
    if (!here || !huddle) return reply;
    return noStore(reply).html(
      <RunOfShowPage
        huddle={huddle}
        clusterName={here.frame.current!.clusterName}
        pitches={bookings.forHuddle(huddle.id, 'confirmed')}
        now={app.clock.now()}
      />,
    );
  });

  app.get('/console/:cluster/huddles/:id/run-of-show.csv', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    const huddle = here && huddleOf(here, request, reply);
    if (!here || !huddle) return reply;
    return noStore(reply)
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="run-of-show-${huddle.id}.csv"`)
      .send(bookingsCsv(huddle, bookings.forHuddle(huddle.id, 'confirmed')));
  });

  const refuse: ShowRefusal = (reply, here, request, error, status) => {
    const huddle = huddleOf(here, request, reply);
    return huddle ? showHuddle(reply, here, huddle, { error }, status) : reply;
  };

  /** A form on a pitch of this huddle (`verb`): the pitch must be one of its own, then `act` does it and the page says `done`. */
  function pitchAction(verb: string, done: PitchDone, act: (here: InCluster, bookingId: string, request: FastifyRequest) => void) {
    context.action(`/console/:cluster/huddles/:id/pitches/:booking/${verb}`, { changes: true, refuse }, (here, request, reply) => {
      const huddle = huddleOf(here, request, reply);
      if (!huddle) return reply;
      const bookingId = (request.params as { booking: string }).booking;
      const pitch = isId(bookingId) ? bookings.find(bookingId) : undefined;
      if (!pitch || pitch.huddle.id !== huddle.id) throw problem('BOOKING_NOT_FOUND', 'This huddle has no such pitch');
      act(here, bookingId, request);
      return reply.redirect(`/console/${here.principal.clusterSlug}/huddles/${huddle.id}?done=${done}`, 303);
    });
  }

  pitchAction('approve', 'approved', (here, id) => bookings.approve(id, here.principal, consoleActor(here.principal)));
  pitchAction('reject', 'rejected', (here, id, request) =>
    bookings.reject(id, here.principal, consoleActor(here.principal), cleanParagraphs(formField(request, 'reason') ?? '', 1000) || null),
  );
  pitchAction('move', 'moved', (here, id, request) =>
    bookings.move(id, formField(request, 'slotId') ?? '', here.principal, consoleActor(here.principal)),
  );

  return { huddleOf };
}
