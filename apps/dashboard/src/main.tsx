import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createDashboardClient } from './lib';
import { App } from './ui/App';
import { createBrowserLock, createLocalStorageTokenStore } from './ui/browserSession';
import { connectionStatusStore } from './ui/connectionStatus';

const origin = window.location.origin;
const client = createDashboardClient({
  httpUrl: `${origin}/graphql`,
  wsUrl: `${origin.replace(/^http/, 'ws')}/graphql`,
  store: createLocalStorageTokenStore(),
  withLock: createBrowserLock(),
  onConnectionStatus: connectionStatusStore.set,
});

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App client={client} />
  </StrictMode>,
);
