// Shapes every error, 404 and validation failure as RFC 9457 application/problem+json with a stable code.
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { catalogue, isAppError, problem, type AppError, type ErrorCode, type FieldError } from '../errors.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** Fastify's own error codes that a client can cause, mapped onto the catalogue. */
const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_NOT_FOUND: 'ROUTE_NOT_FOUND',
};

const BY_STATUS: Record<number, ErrorCode> = {
  400: 'VALIDATION_FAILED',
  401: 'AUTH_REQUIRED',
  403: 'FORBIDDEN',
  404: 'ROUTE_NOT_FOUND',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  413: 'BODY_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'NOT_READY',
};

function fieldErrors(error: FastifyError): FieldError[] {
  const seen = new Map<string, FieldError>();
  for (const issue of error.validation ?? []) {
    // anyOf/oneOf add a summary error after their branches' errors: the first, specific one is kept.
    if (issue.keyword === 'anyOf' || issue.keyword === 'oneOf') continue;
    const params = issue.params as Record<string, unknown>;
    let path = issue.instancePath || '';
    if (typeof params.missingProperty === 'string') path += `/${params.missingProperty}`;
    if (typeof params.additionalProperty === 'string') path += `/${params.additionalProperty}`;
    const field = `${error.validationContext ?? 'body'}${path}`;
    const message = typeof params.additionalProperty === 'string' ? 'is not a known field' : (issue.message ?? 'is not valid');
    if (!seen.has(field)) seen.set(field, { field, message });
  }
  return [...seen.values()];
}

/** Turns anything thrown into a catalogue error; unknown errors become INTERNAL_ERROR. */
export function toAppError(error: FastifyError | AppError | Error): AppError {
  if (isAppError(error)) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const errors = fieldErrors(fastifyError);
    const first = errors[0];
    return problem('VALIDATION_FAILED', first ? `${first.field} ${first.message}` : undefined, { errors });
  }
  const mapped = fastifyError.code ? FRAMEWORK_CODES[fastifyError.code] : undefined;
  if (mapped) return problem(mapped);
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) return problem('MALFORMED_JSON');
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) return problem(BY_STATUS[status] ?? 'VALIDATION_FAILED');
  return problem('INTERNAL_ERROR');
}

export function problemBody(error: AppError, request: FastifyRequest, baseUrl: string) {
  const code = error.code;
  const status = catalogue[code].status;
  return {
    type: `${baseUrl}/problems/${code}`,
    title: catalogue[code].title,
    status,
    // An internal error never shows its message: it may carry internals.
    detail: code === 'INTERNAL_ERROR' ? catalogue[code].title : error.message,
    code,
    requestId: String(request.id),
    ...(error.errors ? { errors: error.errors } : {}),
  };
}

export function sendProblem(reply: FastifyReply, error: AppError, baseUrl: string) {
  const body = problemBody(error, reply.request, baseUrl);
  if (error.headers) reply.headers(error.headers);
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}

/** For Fastify's `frameworkErrors`: a bad URL or similar found before any route runs. */
export function frameworkErrorHandler(baseUrl: string) {
  return (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
    const code =
      error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'VALIDATION_FAILED' : toAppError(error).code;
    return sendProblem(reply, problem(code, 'The request address is not valid'), baseUrl);
  };
}

/** What to answer when Node's HTTP server gives up on a request: too slow, headers too large, or not HTTP. */
function clientErrorAnswer(nodeCode: string | undefined): { status: number; reason: string; code: ErrorCode; detail: string } {
  if (nodeCode === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return {
      status: 408,
      reason: 'Request Timeout',
      code: 'REQUEST_TIMEOUT',
      detail: 'The request did not arrive in time: send it whole, and faster',
    };
  }
  if (nodeCode === 'HPE_HEADER_OVERFLOW') {
    return {
      status: 431,
      reason: 'Request Header Fields Too Large',
      code: 'VALIDATION_FAILED',
      detail: 'The request headers are too large',
    };
  }
  return { status: 400, reason: 'Bad Request', code: 'VALIDATION_FAILED', detail: 'The request is not valid HTTP' };
}

/** For Fastify's `clientErrorHandler`: requests Node's HTTP parser rejects never reach Fastify. */
export function clientErrorHandler(baseUrl: string) {
  return (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) return socket.destroy();
    const { status, reason, code, detail } = clientErrorAnswer(error.code);
    // No request was parsed, so there is no request id yet; this answer gets its own, like every other.
    const requestId = randomUUID();
    const body = JSON.stringify({
      type: `${baseUrl}/problems/${code}`,
      title: catalogue[code].title,
      status,
      detail,
      code,
      requestId,
    });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ` +
        `${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  };
}

export default fp(
  async (app, opts: { baseUrl: string }) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const appError = toAppError(error);
      const status = catalogue[appError.code].status;
      if (status >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.info({ code: appError.code, status }, 'request refused');
      // Nothing returned: a returned reply is a thenable, and Fastify would wait on it (a stream
      // listener and a promise a refusal, for nothing).
      sendProblem(reply, appError, opts.baseUrl);
    });

    app.setNotFoundHandler((request, reply) =>
      sendProblem(reply, problem('ROUTE_NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}`), opts.baseUrl),
    );

    // Each problem type is a URL; it resolves to its own catalogue entry.
    app.get('/problems/:code', { schema: { hide: true } }, async (request, reply) => {
      const code = (request.params as { code: string }).code;
      if (!Object.hasOwn(catalogue, code)) throw problem('ROUTE_NOT_FOUND');
      return reply.send({ code, ...catalogue[code as ErrorCode] });
    });
  },
  { name: 'problems' },
);
