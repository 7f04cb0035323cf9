// Subscribers in the console: `/console/{cluster}/subscribers` lists and searches them (and downloads the
// list as CSV); one person's page shows their consent record and offers their export, unsubscribing on
// request and erasure after a confirmation step; `/console/{cluster}/suppressions` lists the addresses
// never mailed, each liftable with a note. The subscribers service does the work, as for the API.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TOPICS, type Subscriber, type Topic } from '../../db/schema.js';
import { isAppError } from '../../errors.js';
import { isId } from '../../lib/ids.js';
import { formField } from '../../lib/page.js';
import { messages } from '../../shared/messages.js';
import { problemInWords } from '../../shared/pages.js';
import { consoleActor } from '../../shared/principals.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { SubscribersService } from '../subscribers/subscribers.service.js';
import { exportView, subscribersCsv } from '../subscribers/subscribers.view.js';
import type { ConsoleContext, InCluster, ShowRefusal } from './console.context.js';
import { ErasePage, SubscriberPage, SubscribersPage, SuppressionsPage, type SubscriberFilter } from './console.subscriber-views.js';
import { ConsoleFrame } from './console.views.js';

const m = messages.console;
const PAGE = 50;
const STATUSES = ['pending', 'confirmed', 'unsubscribed'] as const;

export function consoleSubscriberRoutes(
  app: FastifyInstance,
  context: ConsoleContext,
  deps: { subscribers: SubscribersService; clusters: ClustersService },
) {
  const { subscribers, clusters } = deps;
  const { noStore, inCluster } = context;
  const clusterOf = (here: InCluster) => clusters.getById(here.principal.clusterId);

  function filterOf(request: FastifyRequest): SubscriberFilter {
    const query = request.query as Record<string, unknown>;
    const pick = <T extends string>(value: unknown, allowed: readonly T[]) => (allowed.includes(value as T) ? (value as T) : '');
    return {
      q: typeof query.q === 'string' ? query.q.trim().slice(0, 200) : '',
      status: pick(query.status, STATUSES),
      topic: pick(query.topic, TOPICS),
    };
  }

  function listOf(here: InCluster, filter: SubscriberFilter, page: { cursor?: string; limit: number }) {
    return subscribers.list(clusterOf(here), {
      ...(filter.q ? { search: filter.q } : {}),
      ...(filter.status ? { status: filter.status as Subscriber['status'] } : {}),
      ...(filter.topic ? { topic: filter.topic as Topic } : {}),
      ...page,
    });
  }

  app.get('/console/:cluster/subscribers', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    if (!here) return reply;
    const filter = filterOf(request);
    const cursor = (request.query as { cursor?: unknown }).cursor;
    let page;
    try {
      page = listOf(here, filter, { ...(typeof cursor === 'string' ? { cursor } : {}), limit: PAGE });
    } catch (error) {
      if (!isAppError(error) || error.statusCode >= 500) throw error;
      page = listOf(here, filter, { limit: PAGE });
    }
    const query = (extra: Record<string, string>) => `?${new URLSearchParams({ ...filter, ...extra }).toString()}`;
    const more = page.nextCursor ? query({ cursor: page.nextCursor }) : null;
    const csv = `/console/${here.principal.clusterSlug}/subscribers.csv${query({})}`;
    return noStore(reply).html(<SubscribersPage frame={here.frame} filter={filter} rows={page.items} more={more} csv={csv} />);
  });

  app.get('/console/:cluster/subscribers.csv', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    if (!here) return reply;
    const rows = listOf(here, filterOf(request), { limit: 1_000_000 }).items;
    return noStore(reply)
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="subscribers-${here.principal.clusterSlug}.csv"`)
      .send(subscribersCsv(rows));
  });

  /** The cluster's subscriber of the request, or null after answering 404 in the console's frame. */
  function subscriberOf(here: InCluster, request: FastifyRequest, reply: FastifyReply): Subscriber | null {
    const id = (request.params as { id: string }).id;
    const subscriber = isId(id) ? subscribers.byId(app.db, id) : undefined;
    if (subscriber && subscriber.clusterId === here.principal.clusterId) return subscriber;
    void noStore(reply)
      .code(404)
      .html(
        <ConsoleFrame title={m.subscriberNotFound} frame={here.frame} section="subscribers">
          <p>
            <a href={`/console/${here.principal.clusterSlug}/subscribers`}>{m.subscribers}</a>
          </p>
        </ConsoleFrame>,
      );
    return null;
  }

  function showSubscriber(
    reply: FastifyReply,
    here: InCluster,
    subscriber: Subscriber,
    extra: { done?: string; error?: string },
    status = 200,
  ) {
    const { events } = subscribers.export(subscriber);
    return noStore(reply)
      .code(status)
      .html(<SubscriberPage frame={here.frame} subscriber={subscriber} events={events} zone={clusterOf(here).timezone} {...extra} />);
  }

  app.get('/console/:cluster/subscribers/:id', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    const subscriber = here && subscriberOf(here, request, reply);
    if (!here || !subscriber) return reply;
    const done = (request.query as { done?: unknown }).done === 'unsubscribed' ? m.subscriberUnsubscribed : undefined;
    return showSubscriber(reply, here, subscriber, { done });
  });

  app.get('/console/:cluster/subscribers/:id/export.json', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    const subscriber = here && subscriberOf(here, request, reply);
    if (!here || !subscriber) return reply;
    return noStore(reply)
      .header('content-disposition', `attachment; filename="subscriber-${subscriber.id}.json"`)
      .send(exportView(subscribers.export(subscriber)));
  });

  app.get('/console/:cluster/subscribers/:id/erase', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    const subscriber = here && subscriberOf(here, request, reply);
    if (!here || !subscriber || context.viewerStop(here, reply, m.eraseTitle(subscriber.email))) return reply;
    return noStore(reply).html(<ErasePage frame={here.frame} subscriber={subscriber} />);
  });

  const refuseSubscriber: ShowRefusal = (reply, here, request, error, status) => {
    const subscriber = subscriberOf(here, request, reply);
    return subscriber ? showSubscriber(reply, here, subscriber, { error }, status) : reply;
  };

  context.action('/console/:cluster/subscribers/:id/unsubscribe', { changes: true, refuse: refuseSubscriber }, (here, request, reply) => {
    const subscriber = subscriberOf(here, request, reply);
    if (!subscriber) return reply;
    subscribers.unsubscribe(subscriber, { source: 'organiser' }, consoleActor(here.principal));
    return reply.redirect(`/console/${here.principal.clusterSlug}/subscribers/${subscriber.id}?done=unsubscribed`, 303);
  });

  context.action('/console/:cluster/subscribers/:id/erase', { changes: true, refuse: refuseSubscriber }, (here, request, reply) => {
    const subscriber = subscriberOf(here, request, reply);
    if (!subscriber) return reply;
    subscribers.erase(subscriber, { source: 'organiser' }, consoleActor(here.principal));
    return reply.redirect(`/console/${here.principal.clusterSlug}/suppressions?done=erased`, 303);
  });

  function showSuppressions(reply: FastifyReply, here: InCluster, extra: Partial<Parameters<typeof SuppressionsPage>[0]>, status = 200) {
    const cluster = clusterOf(here);
    return noStore(reply)
      .code(status)
      .html(<SuppressionsPage frame={here.frame} entries={subscribers.suppressions(cluster)} zone={cluster.timezone} {...extra} />);
  }

  app.get('/console/:cluster/suppressions', { schema: { hide: true } }, async (request, reply) => {
    const here = inCluster(request, reply);
    if (!here) return reply;
    const done = (request.query as { done?: unknown }).done;
    return showSuppressions(reply, here, { done: done === 'erased' ? m.erased : done === 'lifted' ? m.lifted : null });
  });

  context.action(
    '/console/:cluster/suppressions/lift',
    { changes: true, refuse: (reply, here, _request, error, status) => showSuppressions(reply, here, { error }, status) },
    (here, request, reply) => {
      const email = (formField(request, 'email') ?? '').trim();
      const note = (formField(request, 'note') ?? '').trim().slice(0, 500);
      if (note.length < 3) return showSuppressions(reply, here, { note: { email, text: note, error: m.noteMissing } }, 400);
      try {
        subscribers.liftSuppression(clusterOf(here), email, note, consoleActor(here.principal));
      } catch (error) {
        if (!isAppError(error) || error.statusCode >= 500) throw error;
        return showSuppressions(reply, here, { error: problemInWords(error) }, error.statusCode);
      }
      return reply.redirect(`/console/${here.principal.clusterSlug}/suppressions?done=lifted`, 303);
    },
  );
}
