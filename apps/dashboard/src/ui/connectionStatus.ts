import { useSyncExternalStore } from 'react';
import type { ConnectionStatus } from '../lib';

/** The live connection's status, shared by the link (writer) and the banner (reader). */
function createStore() {
  let status: ConnectionStatus = 'connecting';
  const listeners = new Set<() => void>();
  return {
    get: () => status,
    set: (next: ConnectionStatus) => {
      status = next;
      for (const listener of listeners) listener();
    },
    subscribe: (listener: () => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export const connectionStatusStore = createStore();

export function useConnectionStatus(): ConnectionStatus {
  return useSyncExternalStore(connectionStatusStore.subscribe, connectionStatusStore.get);
}
