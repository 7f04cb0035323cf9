// OpenAPI 3.1 generated from the route schemas, served at /openapi.json with offline interactive docs at /docs.
import fp from 'fastify-plugin';
import { catalogue, type ErrorCode } from '../errors.js';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type } from 'typebox';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { SECURITY_SCHEMES } from './auth.js';

/** A group of operations in the document; each module declares its own (declareTag) before its routes. */
export interface OpenApiTag {
  name: string;
  description: string;
}

export const Problem = Type.Object(
  {
    type: Type.String({ description: 'URL naming the kind of problem' }),
    title: Type.String({ description: 'Short summary of the kind of problem' }),
    status: Type.Integer({ description: 'HTTP status code' }),
    detail: Type.String({ description: 'What went wrong with this request' }),
    code: Type.String({ description: 'Stable machine-readable error code, e.g. SLOT_TAKEN' }),
    requestId: Type.String({ description: 'Id of this request, for support and logs' }),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          field: Type.String({ description: 'Where the bad value is, e.g. body/email' }),
          message: Type.String({ description: 'What is wrong with it' }),
        }),
        { description: 'One entry per invalid field' },
      ),
    ),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The catalogue errors this route raises besides the ones every route can (documented in OpenAPI). */
    errors?: ErrorCode[];
  }
  interface FastifyInstance {
    /** The tags declared so far, in the order the modules registered: the document's tag list. */
    openapiTags: OpenApiTag[];
  }
}

/** Declares a tag a module's routes use; the document lists tags in the order they were declared. */
export function declareTag(app: FastifyInstance, tag: OpenApiTag): void {
  if (!app.openapiTags.some((known) => known.name === tag.name)) app.openapiTags.push(tag);
}

const RESPONSE_TEXT: Record<number, string> = {
  400: 'The request is not valid (VALIDATION_FAILED, MALFORMED_JSON)',
  401: 'No, or no valid, credentials (AUTH_REQUIRED, INVALID_CREDENTIALS)',
  403: 'The credentials may not do this (FORBIDDEN)',
  404: 'Not found',
  409: 'Conflicts with the current state',
  410: 'Gone',
  422: 'The request cannot be processed as sent',
  413: 'The body is too large (BODY_TOO_LARGE)',
  415: "The body's media type is not accepted (UNSUPPORTED_MEDIA_TYPE)",
  429: 'Too many requests (RATE_LIMITED); see Retry-After',
  500: 'An error on our side (INTERNAL_ERROR)',
};

function problemResponse(status: number, codes: ErrorCode[] = []) {
  const description = codes.length === 0 ? RESPONSE_TEXT[status] : `${RESPONSE_TEXT[status] ?? 'Refused'}: ${codes.join(', ')}`;
  return { description, content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } } };
}

/** Adds the problem responses every route can give, so no route has to list them by hand. */
function addProblemResponses(route: RouteOptions) {
  const schema = route.schema;
  if (!schema || schema.hide) return;
  const statuses = new Set<number>([400, 500]);
  if (schema.body) [413, 415].forEach((s) => statuses.add(s));
  if (schema.params) statuses.add(404);
  const auth = route.config?.auth;
  if (Array.isArray(auth)) [401, 403, 429].forEach((s) => statuses.add(s));
  else if (auth && auth !== 'public') [401, 429].forEach((s) => statuses.add(s));
  else if (auth === 'public' && route.config?.rateLimit !== false) statuses.add(429);
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of route.config?.errors ?? []) {
    const status = catalogue[code].status;
    statuses.add(status);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const response = { ...(schema.response as Record<string, unknown> | undefined) };
  for (const status of [...statuses].sort()) if (!(status in response)) response[status] = problemResponse(status, byStatus.get(status));
  route.schema = { ...schema, response };
}

export default fp(
  async (app, opts: { version: string }) => {
    app.addSchema(Problem);
    app.decorate('openapiTags', [] as OpenApiTag[]);
    app.addHook('onRoute', (route) => {
      for (const tag of (route.schema?.hide ? [] : route.schema?.tags) ?? []) {
        if (!app.openapiTags.some((known) => known.name === tag))
          throw new Error(`${route.method} ${route.url}: tag "${tag}" is not declared (declareTag)`);
      }
    });
    app.addHook('onRoute', addProblemResponses);

    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Convene API',
          version: opts.version,
          description:
            'Huddles, pitch slots, calendar feeds and the newsletter of innovation clusters. Every error is ' +
            'application/problem+json with a stable `code`.',
        },
        components: {
          securitySchemes: {
            [SECURITY_SCHEMES.organiser]: {
              type: 'http',
              scheme: 'bearer',
              description:
                "Organiser API key (cnv_org_...), from `convene organiser create`. A viewer's key " +
                '(`--role viewer`: board members, funders) reads everything in its cluster and is refused every change (403 FORBIDDEN).',
            },
            [SECURITY_SCHEMES.member]: {
              type: 'http',
              scheme: 'bearer',
              description: 'Member token (cnv_mem_...), from POST /v1/auth/tokens',
            },
          },
        },
      },
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
      },
      transformObject: (documentObject) => ({ ...(documentObject as { openapiObject: object }).openapiObject, tags: app.openapiTags }),
    });

    await app.register(swaggerUi, {
      routePrefix: '/docs',
      staticCSP: true,
      // Served over plain http on a private network, "upgrade-insecure-requests" would break the page.
      transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/g, ''),
      uiConfig: { docExpansion: 'list', deepLinking: true },
    });

    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'openapi' },
);
