// What every console route shares: the signed-in person from the session cookie, the cluster of the
// request and their role in it, and the checks before any form's action (session, cluster, CSRF token,
// a viewer's changes refused). Answers a request that fails a check itself.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError } from '../../errors.js';
import { formField } from '../../lib/page.js';
import { CONSOLE_SESSION, csrfMatches, csrfToken, sessionToken } from '../../lib/session.js';
import { messages } from '../../shared/messages.js';
import { problemInWords, sameSiteOnly } from '../../shared/pages.js';
import { consolePrincipal, type ConsoleSession, type OrganiserPrincipal } from '../../shared/principals.js';
import type { ConsoleSignIn } from '../organisers/organisers.sign-in.js';
import { ClusterChoicePage, ConsoleFrame, type ConsoleFrameData } from './console.views.js';

const m = messages.console;

/** A signed-in request in one of the person's clusters. */
export interface InCluster {
  session: ConsoleSession;
  principal: OrganiserPrincipal;
  frame: ConsoleFrameData;
}

/** How a route shows its page again with a refusal in words, and the status to answer with. */
export type ShowRefusal = (reply: FastifyReply, here: InCluster, request: FastifyRequest, error: string, status: number) => unknown;

export type ConsoleContext = ReturnType<typeof createConsoleContext>;

export function createConsoleContext(app: FastifyInstance, deps: { consoleSignIn: ConsoleSignIn; secretKey: string }) {
  const { consoleSignIn, secretKey } = deps;
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'private, no-store');

  function session(request: FastifyRequest): ConsoleSession | null {
    const token = sessionToken(request, CONSOLE_SESSION);
    return token ? consoleSignIn.resolveSession(token, app.clock.now()) : null;
  }

  function frameOf(signedIn: ConsoleSession, slug: string | null): ConsoleFrameData {
    return {
      session: signedIn,
      current: signedIn.roles.find((role) => role.clusterSlug === slug) ?? null,
      csrf: csrfToken(secretKey, signedIn.sessionId),
    };
  }

  /**
   * The signed-in person in the request's cluster, or null after answering: to the sign-in page
   * without a session, with the person's clusters when this one is not theirs.
   */
  function inCluster(request: FastifyRequest, reply: FastifyReply): InCluster | null {
    const signedIn = session(request);
    if (!signedIn) {
      void reply.redirect('/console/signin', 303);
      return null;
    }
    const slug = (request.params as { cluster: string }).cluster;
    const principal = consolePrincipal(signedIn, slug);
    if (!principal) {
      void noStore(reply)
        .code(404)
        .html(<ClusterChoicePage frame={frameOf(signedIn, null)} notYours />);
      return null;
    }
    return { session: signedIn, principal, frame: frameOf(signedIn, slug) };
  }

  /**
   * A console form's POST: the session, the cluster role and the CSRF token checked first; `changes`
   * forms are refused to a viewer. `act` answers (a page or a redirect); a refusal, the service's
   * included, is shown in words by `refuse` on the form's own page.
   */
  function action(
    path: string,
    options: { changes: boolean; refuse: ShowRefusal },
    act: (here: InCluster, request: FastifyRequest, reply: FastifyReply) => unknown,
  ) {
    app.post(path, { schema: { hide: true }, preHandler: sameSiteOnly }, async (request, reply) => {
      const here = inCluster(request, reply);
      if (!here) return reply;
      if (!csrfMatches(secretKey, here.session.sessionId, formField(request, '_csrf'))) {
        return options.refuse(reply, here, request, m.formExpired, 403);
      }
      if (options.changes && here.principal.role === 'viewer') return options.refuse(reply, here, request, m.viewerRefused, 403);
      try {
        return await act(here, request, reply);
      } catch (error) {
        if (!isAppError(error) || error.statusCode >= 500) throw error;
        return options.refuse(reply, here, request, problemInWords(error), error.statusCode);
      }
    });
  }

  /**
   * For a viewer, the page of a form that changes things says so instead of showing the form (they may
   * open every page, and change nothing); returns whether it answered.
   */
  function viewerStop(here: InCluster, reply: FastifyReply, title: string): boolean {
    if (here.principal.role !== 'viewer') return false;
    void noStore(reply).html(
      <ConsoleFrame title={title} frame={here.frame}>
        <p>{m.viewerRefused}</p>
      </ConsoleFrame>,
    );
    return true;
  }

  return {
    noStore,
    session,
    viewerStop,
    frameOf,
    inCluster,
    action,
    /** The same checks for routes registered on another instance (a plugin of their own, with its own body parser). */
    on: (instance: FastifyInstance) => createConsoleContext(instance, deps),
  };
}
