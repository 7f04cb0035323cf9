// Serialised views of huddles, kept per row version. Showing an unchanged huddle then costs one small
// indexed read (the row's version) instead of reading, mapping, shaping and serialising the whole row.
// A saved change bumps the version, so a stale view is never served.

/** At most this many views are kept (a few MB); the oldest goes first. */
const MAX_VIEWS = 5000;

export type ViewCache = ReturnType<typeof createViewCache>;

export function createViewCache(limit = MAX_VIEWS) {
  const views = new Map<string, { version: number; body: string }>();
  return {
    /** The serialised view, when one of exactly this version is kept. */
    get(key: string, version: number): string | undefined {
      const view = views.get(key);
      return view?.version === version ? view.body : undefined;
    },
    set(key: string, version: number, body: string): void {
      views.delete(key);
      if (views.size >= limit) views.delete(views.keys().next().value!);
      views.set(key, { version, body });
    },
  };
}
