// The one kind of cache in Convene: lru-cache, bounded by a size, the least recently used going first
// when it is full. The size is counted by the caller (characters of text, or one per entry), and the
// cache grows as it fills: lru-cache bounded by a count instead allocates all its room when it is made,
// which cost the server's start-up a few milliseconds per cache.
import { LRUCache } from 'lru-cache';

/** Keys and values lru-cache accepts: anything but null and undefined. */
type Present = NonNullable<unknown>;

export type Cache<K extends Present, V extends Present> = LRUCache<K, V>;

/** A cache of at most `maxSize` units; `sizeOf` measures an entry (one unit each by default). */
export function boundedCache<K extends Present, V extends Present>(maxSize: number, sizeOf: (value: V) => number = () => 1): Cache<K, V> {
  return new LRUCache<K, V>({ maxSize, sizeCalculation: (value) => Math.max(1, sizeOf(value)) });
}
