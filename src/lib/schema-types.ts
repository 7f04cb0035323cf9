// TypeBox building blocks shared by every module's schemas: safe text, slugs, zones, pages.
import { Type, type TSchema } from 'typebox';
import { SLUG } from './text.js';

// No control characters on one line; multi-line text may also hold tab, CR and LF.
const ONE_LINE = '^(?=.*\\S)[^\\u0000-\\u001F\\u007F]*$';
const MULTI_LINE = '^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$';

export function Line(options: { description: string; minLength?: number; maxLength: number }) {
  return Type.String({ minLength: 1, ...options, pattern: ONE_LINE });
}

export function Paragraphs(options: { description: string; maxLength: number }) {
  return Type.String({ ...options, pattern: MULTI_LINE });
}

export const Slug = Type.String({
  description: 'Short lower-case name used in addresses, e.g. north-west-healthtec',
  pattern: SLUG.source,
  minLength: 1,
  maxLength: 64,
});

export const Email = Type.String({ description: 'Email address', format: 'email', maxLength: 254 });

export const HttpUrl = Type.String({
  description: 'An http or https address',
  format: 'uri',
  pattern: '^https?://[^\\s]+$',
  maxLength: 2048,
});

export const TimeZone = Type.String({
  description: 'IANA time zone, e.g. Europe/London',
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z][A-Za-z0-9_+\\-]*(?:/[A-Za-z0-9_+\\-]+)*$',
});

export const Id = Type.String({ description: 'Identifier', format: 'uuid' });

export const CursorQuery = {
  cursor: Type.Optional(
    Type.String({ description: "Opaque cursor from the previous page's nextCursor", maxLength: 200, pattern: '^[A-Za-z0-9_-]*$' }),
  ),
  limit: Type.Optional(Type.Integer({ description: 'Items per page', minimum: 1, maximum: 100, default: 50 })),
};

export function Page<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor for the next page; null on the last page' }),
  });
}
