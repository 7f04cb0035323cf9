// Serialised views of huddles, kept per row version. Showing an unchanged huddle then costs one small
// indexed read (the row's version) instead of reading, mapping, shaping and serialising the whole row.
// A saved change bumps the version, so a stale view is never served.
import type { FastifyReply } from 'fastify';

/** The views kept add up to at most this many characters (16–32 MB; about 13,000 typical huddles); the oldest go first. */
const MAX_CHARS = 16_000_000;

export type ViewCache = ReturnType<typeof createViewCache>;

export function createViewCache(maxChars = MAX_CHARS) {
  const views = new Map<string, { version: number; body: string }>();
  let chars = 0;

  function forget(key: string) {
    const view = views.get(key);
    if (view === undefined) return;
    chars -= view.body.length;
    views.delete(key);
  }

  return {
    /** The serialised view, when one of exactly this version is kept. */
    get(key: string, version: number): string | undefined {
      const view = views.get(key);
      return view?.version === version ? view.body : undefined;
    },
    set(key: string, version: number, body: string): void {
      forget(key);
      while (views.size > 0 && chars + body.length > maxChars) forget(views.keys().next().value!);
      views.set(key, { version, body });
      chars += body.length;
    },
  };
}

/** Sends JSON that is already serialised (with the route's schemas): Fastify sends a string as it is. */
export function sendJson(reply: FastifyReply, body: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(body as never);
}
