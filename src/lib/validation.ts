// Request validation: bodies are taken exactly as sent (no type coercion); query strings and
// path parameters, which are always text, are coerced to the schema's types.
import Ajv, { type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fastUri from 'fast-uri';
import type { FastifySchemaCompiler } from 'fastify';

const common: Options = {
  useDefaults: true,
  removeAdditional: false,
  allErrors: true,
  addUsedSchema: false,
  uriResolver: fastUri,
  strict: false,
};

function build(options: Options) {
  const ajv = new Ajv.default({ ...common, ...options });
  addFormats.default(ajv);
  return ajv;
}

/**
 * Fastify's validator compiler. Each schema is compiled by ajv when its route is first used rather
 * than when the server starts, which kept start-up short (bench/FINDINGS.md). A schema ajv cannot
 * compile still fails loudly, on that first request, and the test suite and contract fuzz call every route.
 */
export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  // The two ajv instances, with their formats, are made on first use too.
  let strict: Ajv.default | undefined;
  let coercing: Ajv.default | undefined;
  const ajvFor = (httpPart: string | undefined) =>
    httpPart === 'body' ? (strict ??= build({ coerceTypes: false })) : (coercing ??= build({ coerceTypes: 'array' }));
  return ({ schema, httpPart }) => {
    let compiled: ValidateFunction | undefined;
    const validate = (data: unknown): boolean => {
      compiled ??= ajvFor(httpPart).compile(schema as object);
      const valid = compiled(data) as boolean;
      validate.errors = compiled.errors;
      return valid;
    };
    validate.errors = null as ErrorObject[] | null | undefined;
    return validate;
  };
}

/**
 * Checks a body against its API schema outside a route (a page that builds the same body from a form),
 * with the same rules the route would apply: each failure as a field path ("title", "pitch/slotCount")
 * and ajv's words. An empty list: the body is valid.
 */
export function bodyChecker(schema: object): (body: unknown) => { field: string; message: string }[] {
  let compiled: ValidateFunction | undefined;
  return (body) => {
    compiled ??= build({ coerceTypes: false }).compile(schema);
    if (compiled(body)) return [];
    return (compiled.errors ?? []).map((error) => ({
      field: error.instancePath.replace(/^\//, ''),
      message: error.message ?? 'is not valid',
    }));
  };
}
