/**
 * A bounded map that forgets the least recently used entry first (a Map keeps insertion order:
 * a hit moves the entry to the end, an insert past `maxEntries` drops the first). The gateway's
 * caches are small and synchronous; this is all they need of an LRU.
 */
export function createLruCache<K, V>(maxEntries: number) {
  const entries = new Map<K, V>();
  return {
    get(key: K): V | undefined {
      const value = entries.get(key);
      if (value !== undefined) {
        entries.delete(key);
        entries.set(key, value);
      }
      return value;
    },
    set(key: K, value: V) {
      entries.delete(key);
      entries.set(key, value);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as K);
    },
    delete: (key: K) => entries.delete(key),
    size: () => entries.size,
  };
}
