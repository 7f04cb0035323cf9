// Bearer authentication. Every /v1 route declares `config.auth`; this plugin enforces it and documents it.
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { problem } from '../errors.js';
import { createFailureLimiter } from '../lib/failure-limiter.js';
import type { MemberPrincipal, OrganiserPrincipal, Principal, PrincipalKind, TokenResolver } from '../shared/principals.js';
import { asList } from '../lib/route-hooks.js';

/**
 * 'public'; the kinds of principal that must call the route; or `{ optional }`: public, but a
 * valid token of those kinds (for the route's cluster) gets a fuller view.
 */
export type RouteAuth = 'public' | PrincipalKind[] | { optional: PrincipalKind[] };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
}

export const SECURITY_SCHEMES = {
  organiser: 'organiserKey',
  member: 'memberToken',
} as const satisfies Record<PrincipalKind, string>;

export interface AuthPluginOptions {
  /** Resolvers by token prefix (cnv_org_, cnv_mem_). */
  resolvers: Record<string, TokenResolver>;
  failuresPerMinute: number;
}

const CHALLENGE = 'Bearer realm="convene"';

/** The bearer token; undefined when none is offered (no header, or another scheme such as Basic). */
function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header || !/^Bearer(\s|$)/i.test(header)) return undefined;
  return /^Bearer[ ]+([^\s]+)\s*$/i.exec(header)?.[1] ?? '';
}

export default fp<AuthPluginOptions>(
  async (app, opts) => {
    const limiter = createFailureLimiter(opts.failuresPerMinute);
    app.decorateRequest('principal', null);

    /** The principal behind a token, or null when it is unknown, revoked or expired. */
    function resolve(token: string): Principal | null {
      const prefix = Object.keys(opts.resolvers).find((p) => token.startsWith(p));
      return prefix ? opts.resolvers[prefix]!(token, app.clock.now()) : null;
    }

    /**
     * A valid token is never refused, whatever failed before it from the same address (colleagues
     * behind one office NAT). A failing one counts against itself and, more loosely, its address;
     * past the limit it gets 429 instead of 401.
     */
    function authenticate(request: FastifyRequest): Principal {
      const token = bearerToken(request);
      if (token === undefined) {
        throw problem('AUTH_REQUIRED', 'Send an Authorization: Bearer header', { headers: { 'www-authenticate': CHALLENGE } });
      }
      const principal = resolve(token);
      if (principal) return principal;
      const now = Date.now();
      const retryAfter = limiter.blockedFor(request.ip, token, now);
      if (retryAfter > 0) {
        throw problem('RATE_LIMITED', 'Too many failed authentication attempts; try again later', {
          headers: { 'retry-after': String(retryAfter) },
        });
      }
      limiter.recordFailure(request.ip, token, now);
      throw problem('INVALID_CREDENTIALS', 'The token is unknown, revoked or expired', {
        headers: { 'www-authenticate': `${CHALLENGE}, error="invalid_token"` },
      });
    }

    /**
     * `changes`: the route changes something (any method but GET and HEAD), which a viewer may not. A hook
     * with a callback, not an async function: no promise and no microtask on every request (Fastify's hook
     * runner turns a refusal thrown here into the error answer, as it does a rejected promise).
     */
    function guard(allowed: PrincipalKind[], changes: boolean): onRequestHookHandler {
      return (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
        const principal = authenticate(request);
        if (!allowed.includes(principal.kind)) throw problem('FORBIDDEN', `This route is for ${allowed.join(' or ')}s`);
        if (changes && principal.kind === 'organiser' && principal.role === 'viewer') {
          throw problem('FORBIDDEN', "A viewer's key can see this cluster but not change it");
        }
        // Compared before any lookup, so a key for another cluster learns nothing about this one.
        const cluster = (request.params as { cluster?: string } | undefined)?.cluster;
        if (cluster !== undefined && cluster !== principal.clusterSlug) {
          throw problem('FORBIDDEN', 'These credentials belong to another cluster');
        }
        request.principal = principal;
        done();
      };
    }

    // A public read with a stale or foreign Authorization header is answered as public: it is not a
    // failed sign-in (calendar apps and browsers resend old headers), so it neither fails nor counts.
    function optionalGuard(allowed: PrincipalKind[]): onRequestHookHandler {
      return async (request: FastifyRequest) => {
        const token = bearerToken(request);
        const principal = token ? resolve(token) : null;
        if (!principal) return;
        const cluster = (request.params as { cluster?: string } | undefined)?.cluster;
        if (allowed.includes(principal.kind) && (cluster === undefined || cluster === principal.clusterSlug)) {
          request.principal = principal;
        }
      };
    }

    app.addHook('onRoute', (route) => {
      const auth = route.config?.auth;
      if (auth === undefined) {
        if (route.url.startsWith('/v1/')) throw new Error(`${route.method} ${route.url} must declare config.auth`);
        return;
      }
      if (auth === 'public') {
        route.schema = { ...route.schema, security: [] };
        return;
      }
      const optional = !Array.isArray(auth);
      const kinds = Array.isArray(auth) ? auth : auth.optional;
      // In OpenAPI an empty requirement object means "or no credentials at all".
      const security = [...(optional ? [{}] : []), ...kinds.map((kind) => ({ [SECURITY_SCHEMES[kind]]: [] }))];
      route.schema = { ...route.schema, security };
      const changes = asList(route.method).some((method) => method !== 'GET' && method !== 'HEAD');
      route.onRequest = [optional ? optionalGuard(kinds) : guard(kinds, changes), ...asList(route.onRequest)];
    });
  },
  { name: 'auth', dependencies: ['context'] },
);

/** The authenticated principal of a route that declared auth; throws if misused on a public route. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('principalOf() called on a route without auth');
  return request.principal;
}

export function organiserOf(request: FastifyRequest): OrganiserPrincipal {
  const principal = principalOf(request);
  if (principal.kind !== 'organiser') throw problem('FORBIDDEN');
  return principal;
}

export function memberOf(request: FastifyRequest): MemberPrincipal {
  const principal = principalOf(request);
  if (principal.kind !== 'member') throw problem('FORBIDDEN');
  return principal;
}

/** Who is acting, for the audit log. */
export function actorOf(request: FastifyRequest) {
  const principal = principalOf(request);
  const id = principal.kind === 'organiser' ? principal.organiserId : principal.memberId;
  return { type: principal.kind, id, label: principal.label, requestId: String(request.id) };
}
