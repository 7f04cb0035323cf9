// Logger settings: structured JSON, with tokens, keys and email addresses kept out of the logs.
import type { FastifyRequest } from 'fastify';
import { stdSerializers } from 'pino';

const SECRET_QUERY = /([?&](?:token|code|key|email)=)[^&#]*/gi;
const TOKEN = /cnv_[a-z]+_[A-Za-z0-9_-]+/g;
const EMAIL = /[^\s/?&=:@]+@[^\s/?&=:@]+/g;

/** Free text (an SMTP reply, a database error) with addresses and tokens replaced, safe to log. */
export function redactText(text: string): string {
  return text.replace(TOKEN, '[redacted]').replace(EMAIL, '[redacted]');
}

/** A URL with token-like and address-like parts replaced, safe to log. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1[redacted]').replace(TOKEN, '[redacted]').replace(EMAIL, '[redacted]');
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function loggerOptions(level: LogLevel) {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'email',
        'to',
        'token',
        'apiKey',
        '*.email',
        '*.to',
        '*.token',
        '*.apiKey',
        '*.authorization',
      ],
      censor: '[redacted]',
    },
    serializers: {
      err(error: Error) {
        // A failed query's error carries its parameters (addresses, tokens): they stay out of the log.
        const { params: _params, ...serialized } = stdSerializers.err(error) as ReturnType<typeof stdSerializers.err> & {
          params?: unknown;
        };
        return { ...serialized, message: redactText(serialized.message ?? ''), stack: redactText(serialized.stack ?? '') };
      },
      req(request: FastifyRequest) {
        return {
          method: request.method,
          url: redactUrl(request.url),
          remoteAddress: request.ip,
          userAgent: request.headers['user-agent'],
        };
      },
    },
  };
}

const INCOMING_ID = /^[A-Za-z0-9._:-]{8,100}$/;

/** Keeps a well-formed X-Request-Id from a proxy, otherwise makes one. */
export function requestIdFrom(header: string | string[] | undefined, fallback: () => string): string {
  return typeof header === 'string' && INCOMING_ID.test(header) ? header : fallback();
}
