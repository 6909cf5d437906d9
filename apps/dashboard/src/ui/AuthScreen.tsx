import { useState, type FormEvent } from 'react';
import { Alert, Box, Button, CircularProgress, IconButton, Paper, Stack, Tab, Tabs, TextField, Tooltip, Typography, type PaletteMode } from '@mui/material';
import DarkModeIcon from '@mui/icons-material/DarkMode';
import LightModeIcon from '@mui/icons-material/LightMode';
import { describeError, errorCode, GraphQLRequestError, type AuthApi, type SessionTokens } from '../lib';

type Step = { kind: 'credentials' } | { kind: 'mfa'; mfaToken: string };

/** Sign in (with the MFA step when the account has it) or create an account. */
export function AuthScreen(props: {
  auth: AuthApi;
  notice: string | null;
  mode: PaletteMode;
  onToggleMode(): void;
  onSignedIn(tokens: SessionTokens): void;
}) {
  const [tab, setTab] = useState<'sign-in' | 'sign-up'>('sign-in');
  const [step, setStep] = useState<Step>({ kind: 'credentials' });
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [code, setCode] = useState('');
  const [useRecovery, setUseRecovery] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    setFieldErrors({});
    try {
      await action();
    } catch (caught) {
      // BAD_USER_INPUT names the field: show the message under it.
      if (caught instanceof GraphQLRequestError) {
        const fields: Record<string, string> = {};
        for (const item of caught.errors) {
          const field = item.extensions?.field;
          if (errorCode(item) === 'BAD_USER_INPUT' && typeof field === 'string') fields[field.replace(/^input\./, '')] = item.message;
        }
        if (Object.keys(fields).length) setFieldErrors(fields);
        else setError(describeError(caught));
      } else {
        setError(describeError(caught));
      }
    } finally {
      setBusy(false);
    }
  }

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      if (step.kind === 'mfa') {
        const tokens = await props.auth.verifyMfa(useRecovery ? { mfaToken: step.mfaToken, recoveryCode: code.trim() } : { mfaToken: step.mfaToken, code: code.trim() });
        props.onSignedIn(tokens);
        return;
      }
      if (tab === 'sign-up') {
        props.onSignedIn(await props.auth.signUp({ email: email.trim(), password, displayName: displayName.trim() }));
        return;
      }
      const outcome = await props.auth.logIn({ email: email.trim(), password });
      if (outcome.kind === 'mfa-required') {
        setStep({ kind: 'mfa', mfaToken: outcome.mfaToken });
        setCode('');
      } else {
        props.onSignedIn(outcome.tokens);
      }
    });
  };

  return (
    <Box component="main" sx={{ minHeight: '100vh', display: 'grid', placeItems: 'center', p: 2 }}>
      <Paper elevation={3} sx={{ width: '100%', maxWidth: 420, p: { xs: 2.5, sm: 4 } }}>
        <Stack direction="row" sx={{ alignItems: 'center', justifyContent: 'space-between', mb: 2 }}>
          <Typography variant="h5" component="h1" sx={{ fontWeight: 700 }}>
            Meridian
          </Typography>
          <Tooltip title={props.mode === 'dark' ? 'Light theme' : 'Dark theme'}>
            <IconButton onClick={props.onToggleMode} aria-label="Toggle dark theme">
              {props.mode === 'dark' ? <LightModeIcon /> : <DarkModeIcon />}
            </IconButton>
          </Tooltip>
        </Stack>
        {props.notice && (
          <Alert severity="warning" sx={{ mb: 2 }}>
            {props.notice}
          </Alert>
        )}
        {step.kind === 'credentials' && (
          <Tabs value={tab} onChange={(_event, value: 'sign-in' | 'sign-up') => setTab(value)} variant="fullWidth" sx={{ mb: 2 }}>
            <Tab value="sign-in" label="Sign in" />
            <Tab value="sign-up" label="Create account" />
          </Tabs>
        )}
        <Box component="form" onSubmit={submit} noValidate>
          <Stack spacing={2}>
            {step.kind === 'mfa' ? (
              <>
                <Typography>Enter the code from your authenticator app{useRecovery ? ' — or one of your recovery codes' : ''}.</Typography>
                <TextField
                  label={useRecovery ? 'Recovery code' : '6-digit code'}
                  value={code}
                  onChange={(event) => setCode(event.target.value)}
                  autoFocus
                  required
                  autoComplete="one-time-code"
                  slotProps={{ htmlInput: useRecovery ? {} : { inputMode: 'numeric', pattern: '[0-9]*', maxLength: 6 } }}
                />
                <Button variant="text" onClick={() => setUseRecovery((value) => !value)}>
                  {useRecovery ? 'Use an authenticator code' : 'Use a recovery code'}
                </Button>
              </>
            ) : (
              <>
                {tab === 'sign-up' && (
                  <TextField
                    label="Display name"
                    value={displayName}
                    onChange={(event) => setDisplayName(event.target.value)}
                    required
                    autoComplete="name"
                    error={Boolean(fieldErrors.displayName)}
                    helperText={fieldErrors.displayName}
                  />
                )}
                <TextField
                  label="Email"
                  type="email"
                  value={email}
                  onChange={(event) => setEmail(event.target.value)}
                  required
                  autoComplete="email"
                  autoFocus
                  error={Boolean(fieldErrors.email)}
                  helperText={fieldErrors.email}
                />
                <TextField
                  label="Password"
                  type="password"
                  value={password}
                  onChange={(event) => setPassword(event.target.value)}
                  required
                  autoComplete={tab === 'sign-up' ? 'new-password' : 'current-password'}
                  error={Boolean(fieldErrors.password)}
                  helperText={fieldErrors.password ?? (tab === 'sign-up' ? 'At least 12 characters.' : undefined)}
                />
              </>
            )}
            {error && (
              <Alert severity="error" role="alert">
                {error}
              </Alert>
            )}
            <Button type="submit" variant="contained" size="large" disabled={busy} startIcon={busy ? <CircularProgress size={18} color="inherit" /> : undefined}>
              {step.kind === 'mfa' ? 'Verify' : tab === 'sign-up' ? 'Create account' : 'Sign in'}
            </Button>
            {step.kind === 'mfa' && (
              <Button onClick={() => setStep({ kind: 'credentials' })} disabled={busy}>
                Back
              </Button>
            )}
          </Stack>
        </Box>
      </Paper>
    </Box>
  );
}
