// Response serialisation: Fastify's own fast-json-stringify compiler, run when a response is first sent.
import { SerializerSelector, type SerializerFactory } from '@fastify/fast-json-stringify-compiler';

/**
 * Fastify's default serializer factory (the package Fastify itself uses for it), except that each
 * response schema is compiled when a route first sends that status rather than when the server
 * starts (compiling them all was most of `app.ready`; bench/FINDINGS.md), for the same output. As
 * with the validators, a schema fast-json-stringify cannot compile fails on that first response, and
 * the tests send every route.
 */
export const lazySerializerFactory: SerializerFactory = (externalSchemas, options) => {
  const compile = SerializerSelector()(externalSchemas, options);
  return (route) => {
    let serialize: ((data: unknown) => string) | undefined;
    return (data: unknown) => (serialize ??= compile(route))(data);
  };
};

/**
 * A JSON serializer for one response schema, made by the same compiler Fastify uses for responses
 * (so a body serialised ahead of time is exactly what the route would send); compiled on first use.
 */
export function jsonSerializer(schema: unknown): (data: unknown) => string {
  let serialize: ((data: unknown) => string) | undefined;
  return (data) =>
    (serialize ??= SerializerSelector()({}, {})({ schema: schema as object, method: 'GET', url: '', httpStatus: '200' }))(data);
}
