import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type Redis from 'ioredis';
import { createLruCache } from '../lruCache';

/** The cache shape Apollo Server takes for automatic persisted queries (`KeyValueCache<string>`). */
export interface DocumentCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, options?: { ttl?: number | null }): Promise<void>;
  delete(key: string): Promise<boolean | void>;
}

/** Apollo Server keeps persisted queries under this prefix in the cache it is given. */
export const APQ_PREFIX = 'apq:';

/**
 * Automatic persisted queries: a small local LRU in front of Redis when the gateway has one (a
 * query registered on one replica is known to all), the local LRU alone otherwise. Documents are
 * immutable per hash, so a local hit needs no round trip.
 */
export function createPersistedQueryCache(options: { redis?: Redis; keyPrefix: string; maxLocalEntries?: number }): DocumentCache {
  const local = createLruCache<string, string>(options.maxLocalEntries ?? 2_000);
  const redis = options.redis;
  return {
    async get(key) {
      const hit = local.get(key);
      if (hit !== undefined || !redis) return hit;
      // Redis away: a miss, so the client sends the full query again (the APQ protocol's fallback).
      const stored = await redis.get(`${options.keyPrefix}${key}`).catch(() => null);
      if (stored === null) return undefined;
      local.set(key, stored);
      return stored;
    },
    async set(key, value, setOptions) {
      local.set(key, value);
      if (!redis) return;
      const ttl = setOptions?.ttl;
      const stored = ttl ? redis.set(`${options.keyPrefix}${key}`, value, 'EX', ttl) : redis.set(`${options.keyPrefix}${key}`, value);
      await stored.catch(() => undefined); // kept locally; other replicas will ask for the full query
    },
    async delete(key) {
      local.delete(key);
      if (redis) await redis.del(`${options.keyPrefix}${key}`).catch(() => undefined);
      return true;
    },
  };
}

/** Registered operations by sha256 hash (hex) of their text. */
export type TrustedDocuments = ReadonlyMap<string, string>;

/**
 * Reads a trusted-documents manifest: Apollo's persisted query manifest
 * (`{ "format": "apollo-persisted-query-manifest", "operations": [{ "id", "body", ... }] }`) or a
 * plain `{ "<sha256>": "<operation text>" }` map (GraphQL Code Generator's client preset). Every
 * id must be the sha256 of its body: a mismatch is a broken manifest and stops the gateway.
 */
export function loadTrustedDocuments(path: string): TrustedDocuments {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`TRUSTED_DOCUMENTS_PATH: cannot read ${path} as JSON: ${(error as Error).message}`);
  }
  const entries: [string, unknown][] = [];
  if (raw && typeof raw === 'object' && Array.isArray((raw as { operations?: unknown }).operations)) {
    for (const [index, operation] of ((raw as { operations: unknown[] }).operations).entries()) {
      const { id, body } = (operation ?? {}) as { id?: unknown; body?: unknown };
      if (typeof id !== 'string') throw new Error(`TRUSTED_DOCUMENTS_PATH: operations[${index}].id is not a string in ${path}.`);
      entries.push([id, body]);
    }
  } else if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    entries.push(...Object.entries(raw));
  } else {
    throw new Error(`TRUSTED_DOCUMENTS_PATH: ${path} is neither a persisted query manifest nor a { hash: operation } map.`);
  }
  const documents = new Map<string, string>();
  for (const [id, body] of entries) {
    if (typeof body !== 'string') throw new Error(`TRUSTED_DOCUMENTS_PATH: the body of ${id} is not a string in ${path}.`);
    const hash = createHash('sha256').update(body).digest('hex');
    if (hash !== id.toLowerCase()) throw new Error(`TRUSTED_DOCUMENTS_PATH: ${id} is not the sha256 of its body (${hash}) in ${path}.`);
    documents.set(hash, body);
  }
  return documents;
}

/** Serves the manifest to Apollo Server's persisted-query lookup; nothing can be registered. */
export function trustedDocumentCache(documents: TrustedDocuments): DocumentCache {
  return {
    get: async (key) => (key.startsWith(APQ_PREFIX) ? documents.get(key.slice(APQ_PREFIX.length)) : undefined),
    set: async () => undefined,
    delete: async () => false,
  };
}
