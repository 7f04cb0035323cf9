// Request body parsers that refuse text which is not valid UTF-8 (400 INVALID_UTF8), instead of
// storing it with U+FFFD in place of the bad bytes. JSON for the API; forms for the pages.
import fp from 'fastify-plugin';
import { problem } from '../errors.js';
import { parseForm, strictUtf8 } from '../lib/utf8.js';

const notUtf8 = (what: string) => problem('INVALID_UTF8', `The ${what} body is not valid UTF-8: send its text encoded as UTF-8.`);

/** application/json, parsed as Fastify parses it (prototype poisoning refused) once decoded strictly. */
export const jsonBodies = fp(
  async (app) => {
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
      const text = strictUtf8(body as Buffer);
      if (text === null) return done(notUtf8('JSON'), undefined);
      parseJson(request, text, done);
    });
  },
  { name: 'json-bodies' },
);

/** application/x-www-form-urlencoded, for the pages' forms; registered by each page plugin with its limit. */
export const formBodies = fp<{ bodyLimit: number }>(
  async (app, { bodyLimit }) => {
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => {
      const fields = parseForm(body as Buffer);
      if (fields === null) return done(notUtf8('form'), undefined);
      done(null, fields);
    });
  },
  { name: 'form-bodies' },
);
