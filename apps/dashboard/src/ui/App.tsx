import { useCallback, useEffect, useMemo, useState } from 'react';
import { ApolloProvider } from '@apollo/client/react';
import { Alert, CssBaseline, Snackbar, ThemeProvider, type PaletteMode } from '@mui/material';
import type { DashboardClient } from '../lib';
import { AuthScreen } from './AuthScreen';
import { Shell } from './Shell';
import { createDashboardTheme, loadThemeMode, saveThemeMode } from './theme';

interface Toast {
  message: string;
  severity: 'success' | 'error' | 'info';
  key: number;
}

/** Signed out: the sign-in screen. Signed in: the app, fed by Apollo Client. */
export function App({ client }: { client: DashboardClient }) {
  const [mode, setMode] = useState<PaletteMode>(loadThemeMode);
  const theme = useMemo(() => createDashboardTheme(mode), [mode]);
  const [viewerId, setViewerId] = useState<string | null>(client.session.userId);
  const [signedOutReason, setSignedOutReason] = useState<string | null>(null);
  const [toast, setToast] = useState<Toast | null>(null);

  useEffect(
    () =>
      client.session.onChange((event) => {
        if (event.type === 'signed-out') {
          setViewerId(null);
          if (event.reason === 'expired') setSignedOutReason('Your session has expired. Please sign in again.');
          client.subscriptions.closeSocket();
          void client.apollo.clearStore();
        } else {
          setViewerId(client.session.userId);
        }
      }),
    [client],
  );

  // Another tab signed in or out: follow it.
  useEffect(() => {
    const onStorage = () => {
      void client.session.getAccessToken().catch(() => undefined);
      setViewerId(client.session.userId);
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, [client]);

  const toggleMode = useCallback(() => {
    setMode((current) => {
      const next = current === 'dark' ? 'light' : 'dark';
      saveThemeMode(next);
      return next;
    });
  }, []);

  const notify = useCallback((message: string, severity: Toast['severity'] = 'info') => setToast({ message, severity, key: Date.now() }), []);

  return (
    <ThemeProvider theme={theme}>
      <CssBaseline />
      {viewerId ? (
        <ApolloProvider client={client.apollo}>
          <Shell client={client} viewerId={viewerId} mode={mode} onToggleMode={toggleMode} notify={notify} />
        </ApolloProvider>
      ) : (
        <AuthScreen
          auth={client.auth}
          notice={signedOutReason}
          mode={mode}
          onToggleMode={toggleMode}
          onSignedIn={(tokens) => {
            setSignedOutReason(null);
            client.session.signIn(tokens);
          }}
        />
      )}
      <Snackbar
        key={toast?.key}
        open={toast !== null}
        autoHideDuration={toast?.severity === 'error' ? 8000 : 4000}
        onClose={() => setToast(null)}
        anchorOrigin={{ vertical: 'bottom', horizontal: 'center' }}
      >
        {toast ? (
          <Alert severity={toast.severity} variant="filled" onClose={() => setToast(null)} sx={{ width: '100%' }}>
            {toast.message}
          </Alert>
        ) : undefined}
      </Snackbar>
    </ThemeProvider>
  );
}
