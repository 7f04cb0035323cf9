// Serialised views of huddles, kept per row version. Showing an unchanged huddle then costs one small
// indexed read (its version) instead of reading, mapping, shaping and serialising the whole row
// (bench/FINDINGS.md: the view cache). A saved change bumps the version, so a stale view is never served.
import { boundedCache } from '../../lib/cache.js';
import type { Huddle } from '../../db/schema.js';
import { jsonSerializer } from '../../lib/serialization.js';
import { HuddleView } from './huddles.schemas.js';
import { huddleView } from './huddles.view.js';

/** The views kept add up to at most this many characters (about 13,000 typical huddles); the least recently shown go first. */
const MAX_CHARS = 16_000_000;

export type Audience = 'public' | 'organiser';

export type HuddleViews = ReturnType<typeof createHuddleViews>;

export function createHuddleViews(deps: {
  /** Reads rows: one, and several at once. */
  read: { one(id: string): Huddle; many(ids: string[]): Map<string, Huddle> };
  clusters: { slugOf(id: string): string };
  baseUrl: string;
  maxChars?: number;
}) {
  const kept = boundedCache<string, { version: number; body: string }>(deps.maxChars ?? MAX_CHARS, (view) => view.body.length);
  const serialize = jsonSerializer(HuddleView);

  function shaped(huddle: Huddle, audience: Audience, clusterSlug?: string): string {
    const body = serialize(huddleView(huddle, clusterSlug ?? deps.clusters.slugOf(huddle.clusterId), deps.baseUrl, audience));
    kept.set(`${audience}:${huddle.id}`, { version: huddle.version, body });
    return body;
  }

  function current(id: string, version: number, audience: Audience): string | undefined {
    const view = kept.get(`${audience}:${id}`);
    return view?.version === version ? view.body : undefined;
  }

  return {
    /** One huddle's view as JSON: the kept one when its version is current, else shaped from the row. */
    one(row: Pick<Huddle, 'id' | 'version'>, audience: Audience, clusterSlug?: string): string {
      return current(row.id, row.version, audience) ?? shaped(deps.read.one(row.id), audience, clusterSlug);
    },

    /** A page of huddles' views as JSON, in order; the rows of views not kept are read in one query. */
    many(rows: Pick<Huddle, 'id' | 'version'>[], audience: Audience, clusterSlug: string): string[] {
      const bodies = rows.map((row) => current(row.id, row.version, audience));
      const missing = rows.filter((_row, i) => bodies[i] === undefined).map((row) => row.id);
      if (missing.length === 0) return bodies as string[];
      const read = deps.read.many(missing);
      return rows.map((row, i) => bodies[i] ?? shaped(read.get(row.id) ?? deps.read.one(row.id), audience, clusterSlug));
    },
  };
}
