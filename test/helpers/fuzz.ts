// Contract fuzzing, shared by test/contract-fuzz.test.ts (Fastify inject) and bench/fuzz/prism.ts
// (real HTTP through Prism): fast-check generators built from openapi/openapi.json, fresh things to
// aim at, and the checks every answer must pass.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { catalogue } from '../../src/errors.js';
import { projectRoot } from '../../src/lib/paths.js';
import type { BuiltTestApp } from '../helper.js';
import { createClusterWithOrganiser, createMemberWithToken } from '../fixtures.js';

type Schema = Record<string, unknown> & {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
};
export interface Operation {
  operationId: string;
  parameters?: { in: string; name: string; required?: boolean; schema: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}

export const spec = JSON.parse(readFileSync(join(projectRoot, 'openapi/openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};

/** Rate limits out of the way, so the fuzz reaches the routes. */
export const fuzzEnv = {
  PUBLIC_RATE_LIMIT_PER_MINUTE: '1000000',
  AUTH_FAILURE_LIMIT_PER_MINUTE: '1000000',
  WRITE_RATE_LIMIT_PER_MINUTE: '1000000',
};

/** Every operation of the document, in its order. */
export function operations(): { path: string; method: string; operation: Operation }[] {
  return Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method]) => ['get', 'post', 'patch', 'put', 'delete'].includes(method))
      .map(([method, operation]) => ({ path, method, operation })),
  );
}

function resolve(schema: Schema): Schema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace(/^#\/components\/schemas\//, '').replace(/#$/, '');
  return resolve(spec.components.schemas[name] ?? {});
}

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    '\r\nBcc: x@example.org',
    '"; DROP TABLE members; --',
    '../../etc/passwd',
    '%00',
    '\u0000',
    '💥'.repeat(50),
    'a'.repeat(10_000),
    '<script>alert(1)</script>',
    'cnv_org_' + 'A'.repeat(43),
  ),
);

/** Values that fit the schema, near its edges, or not at all. */
function arbitraryFor(raw: Schema, depth = 0): fc.Arbitrary<unknown> {
  const schema = resolve(raw);
  if (depth > 4) return fc.constant(null);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return fc.oneof(...variants.map((v) => arbitraryFor(v, depth + 1)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, property] of Object.entries(properties)) record[name] = arbitraryFor(property, depth + 1);
      return fc.record(record, { requiredKeys: [...required].filter((name) => name in record) });
    }
    case 'array':
      return fc.array(arbitraryFor(schema.items ?? {}, depth + 1), { maxLength: Math.min(Number(schema.maxItems ?? 5), 5) });
    case 'integer':
      return fc.oneof(
        fc.integer({ min: Number(schema.minimum ?? -1000), max: Number(schema.maximum ?? 1000) }),
        fc.constantFrom(-1, 0, 2 ** 31, Number(schema.maximum ?? 0) + 1),
      );
    case 'number':
      return fc.double({ noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'string': {
      const format = schema.format as string | undefined;
      const valid =
        format === 'uuid'
          ? fc.uuid()
          : format === 'email'
            ? fc.emailAddress()
            : format === 'date-time'
              ? fc.date({ noInvalidDate: true }).map((d) => d.toISOString())
              : format === 'uri'
                ? fc.webUrl()
                : fc.string({
                    minLength: Number(schema.minLength ?? 0),
                    // Short strings keep the run quick, but never shorter than the schema's minimum.
                    maxLength: Math.max(Number(schema.minLength ?? 0), Math.min(Number(schema.maxLength ?? 30), 60)),
                  });
      return fc.oneof({ weight: 7, arbitrary: valid }, { weight: 1, arbitrary: hostileString });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Every field in `value` must be declared by the schema (where the schema lists its properties). */
function undeclared(value: unknown, raw: Schema, path = '$'): string[] {
  const schema = resolve(raw);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) {
    const each = variants.map((v) => undeclared(value, v, path));
    return each.find((problems) => problems.length === 0) ?? each[0] ?? [];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => (schema.items ? undeclared(item, schema.items, `${path}[${i}]`) : []));
  if (value === null || typeof value !== 'object' || !schema.properties) return [];
  return Object.entries(value).flatMap(([key, child]) =>
    key in schema.properties! ? undeclared(child, schema.properties![key]!, `${path}.${key}`) : [`${path}.${key}`],
  );
}

type Credentials = fc.Arbitrary<Record<string, string>>;

/**
 * A cluster with an organiser, and a function giving fresh things to aim at for each operation
 * (fuzzing earlier ones cancels, suspends and revokes).
 */
export function fuzzTargets({ app, database, config, clock }: BuiltTestApp) {
  const org = createClusterWithOrganiser(database, 'north-west', clock);
  let round = 0;
  return async function targets(): Promise<{ known: (path: string, name: string) => string; credentials: Credentials }> {
    round += 1;
    const member = createMemberWithToken(database, config, clock, 'north-west', {
      email: `fuzz${round}@example.org`,
      organisation: `Org ${round}`,
    });
    const huddle = (
      await app.inject({
        method: 'POST',
        url: '/v1/clusters/north-west/huddles',
        headers: org.auth,
        payload: {
          title: `Fuzz huddle ${round}`,
          start: '2026-12-01T09:30',
          durationMinutes: 60,
          venue: { name: 'Hall' },
          status: 'published',
          capacity: 5,
          pitch: { slotCount: 2 },
        },
      })
    ).json();
    const booking = (
      await app.inject({ method: 'POST', url: `/v1/huddles/${huddle.id}/bookings`, headers: member.auth, payload: { title: 'Pitch' } })
    ).json();
    const campaign = (
      await app.inject({
        method: 'POST',
        url: '/v1/clusters/north-west/campaigns',
        headers: org.auth,
        payload: { subject: 'News', body: '# Hi' },
      })
    ).json();
    const feed = (await app.inject({ url: '/v1/me', headers: member.auth })).json().calendar.ics.split('/feeds/')[1].split('/')[0];
    await app.inject({ method: 'POST', url: '/v1/clusters/north-west/subscriptions', payload: { email: `reader${round}@example.org` } });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const subscriber = database.sqlite.prepare('SELECT id FROM subscribers WHERE email = ?').get(`reader${round}@example.org`) as
      { id: string } | undefined;
    const ids: Record<string, string> = {
      huddles: huddle.id,
      bookings: booking.id,
      campaigns: campaign.id,
      subscribers: subscriber?.id ?? huddle.id,
      members: member.member.id,
    };
    /** A real value for a path parameter of this path: the thing the path is about. */
    const known = (path: string, name: string): string => {
      if (name === 'cluster') return 'north-west';
      if (name === 'memberId') return member.member.id;
      if (name === 'feedToken') return feed;
      return ids[/\/v1\/([a-z-]+)\/\{id\}/.exec(path)?.[1] ?? 'huddles'] ?? huddle.id;
    };
    const credentials = fc.constantFrom<Record<string, string>>(
      {},
      org.auth,
      member.auth,
      member.auth,
      { authorization: 'Bearer cnv_org_' + 'A'.repeat(43) },
      { authorization: 'Basic YTpi' },
      { authorization: 'Bearer' },
    );
    return { known, credentials };
  };
}

export interface FuzzRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

/** Requests for one operation: valid, boundary and hostile parameters, bodies and credentials. */
export function requestsFor(
  path: string,
  method: string,
  operation: Operation,
  known: (path: string, name: string) => string,
  credentials: Credentials,
): fc.Arbitrary<FuzzRequest> {
  const parameters = operation.parameters ?? [];
  const bodySchema = operation.requestBody?.content['application/json']?.schema;
  const request = fc.record({
    params: fc.record(
      Object.fromEntries(
        parameters
          .filter((p) => p.in === 'path')
          .map((p) => [
            p.name,
            fc.oneof(
              { weight: 6, arbitrary: fc.constant(known(path, p.name)) },
              { weight: 2, arbitrary: arbitraryFor(p.schema).map(String) },
              { weight: 1, arbitrary: hostileString },
            ),
          ]),
      ),
    ),
    query: fc.record(Object.fromEntries(parameters.filter((p) => p.in === 'query').map((p) => [p.name, arbitraryFor(p.schema)])), {
      requiredKeys: [],
    }),
    headers: credentials,
    body: bodySchema
      ? fc.oneof(
          { weight: 4, arbitrary: arbitraryFor(bodySchema) },
          { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
          { weight: 1, arbitrary: fc.constant(undefined) },
        )
      : fc.constant(undefined),
    contentType: fc.constantFrom(
      'application/json',
      'application/json',
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
    ),
    idempotencyKey: fc.option(fc.oneof({ weight: 4, arbitrary: fc.uuid() }, { weight: 1, arbitrary: hostileString }), {
      nil: undefined,
      freq: 2,
    }),
  });
  return request.map((r) => {
    const url = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(r.params[name] ?? 'x')));
    const query = new URLSearchParams(
      Object.entries(r.query)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
    ).toString();
    const headers: Record<string, string> = { ...r.headers };
    if (r.idempotencyKey !== undefined && /^[\x21-\x7e]*$/.test(r.idempotencyKey)) headers['idempotency-key'] = r.idempotencyKey;
    let payload: string | undefined;
    if (r.body !== undefined && method !== 'get') {
      headers['content-type'] = r.contentType;
      payload = JSON.stringify(r.body);
    }
    return { method: method.toUpperCase(), url: query ? `${url}?${query}` : url, headers, ...(payload !== undefined ? { payload } : {}) };
  });
}

export interface FuzzResponse {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

/** What is wrong with this answer under the operation's contract, or undefined. */
export function contractProblem(operation: Operation, request: FuzzRequest, response: FuzzResponse): string | undefined {
  const where = `${request.method} ${request.url} -> ${response.statusCode} ${response.body.slice(0, 300)}`;
  if (response.statusCode >= 500) return `5xx: ${where}`;
  // A path parameter that is not one segment reaches no route: the generic 404 is fine.
  const routed = !response.body.includes('"ROUTE_NOT_FOUND"');
  if (routed && !(String(response.statusCode) in operation.responses)) return `undocumented status: ${where}`;
  const contentType = String(response.headers['content-type']);
  if (response.statusCode >= 400) {
    if (!/^application\/problem\+json/.test(contentType)) return `an error that is not problem+json: ${where}`;
    const code = (JSON.parse(response.body) as { code?: string }).code;
    if (!code || !(code in catalogue)) return `an error code outside the catalogue: ${where}`;
  } else if (/json/.test(contentType)) {
    const schema = operation.responses[String(response.statusCode)]?.content?.['application/json']?.schema;
    const extra = schema ? undeclared(JSON.parse(response.body), schema) : [];
    if (extra.length > 0) return `undeclared fields ${extra.join(', ')}: ${where}`;
  }
  return undefined;
}
