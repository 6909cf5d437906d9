import type { SessionTokens, TokenStore, WithLock } from '../lib';
import { createInProcessLock } from '../lib';

const KEY = 'meridian.session';

/** Tokens in localStorage, so a reload (and other tabs) keep the session. */
export function createLocalStorageTokenStore(): TokenStore {
  return {
    load() {
      try {
        const raw = window.localStorage.getItem(KEY);
        return raw ? (JSON.parse(raw) as SessionTokens) : null;
      } catch {
        return null;
      }
    },
    save(tokens) {
      if (tokens) window.localStorage.setItem(KEY, JSON.stringify(tokens));
      else window.localStorage.removeItem(KEY);
    },
  };
}

/** Web Locks are shared by every tab of the origin; older browsers fall back to this tab only. */
export function createBrowserLock(): WithLock {
  const locks = (navigator as Partial<Navigator>).locks;
  if (!locks) return createInProcessLock();
  return <T>(name: string, task: () => Promise<T>) => locks.request(name, task) as unknown as Promise<T>;
}

export const SESSION_STORAGE_KEY = KEY;
