// Request validation: bodies are taken exactly as sent (no type coercion); query strings and
// path parameters, which are always text, are coerced to the schema's types.
import Ajv, { type Options } from 'ajv';
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

export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const strict = build({ coerceTypes: false });
  const coercing = build({ coerceTypes: 'array' });
  return ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as object);
}
