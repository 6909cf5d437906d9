import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { Alert, Button, Card, CardContent, Chip, CircularProgress, Stack, Switch, Table, TableBody, TableCell, TableHead, TableRow, TextField, Typography } from '@mui/material';
import {
  MeDocument,
  NotificationPreferencesDocument,
  UpdateNotificationPreferencesDocument,
  UpdateProfileDocument,
  type NotificationChannel,
  type NotificationKind,
} from '../generated/graphql';
import { describeError } from '../lib';
import { useDashboard } from './context';

const KINDS: { kind: NotificationKind; label: string }[] = [
  { kind: 'TASK_ASSIGNED', label: 'A task is assigned to me' },
  { kind: 'TASK_STATUS_CHANGED', label: 'A task of mine changes status' },
  { kind: 'TASK_COMMENTED', label: 'Someone comments on a task of mine' },
  { kind: 'TASK_DUE_SOON', label: 'A task of mine is due soon' },
];
const CHANNELS: { channel: NotificationChannel; label: string }[] = [
  { channel: 'IN_APP', label: 'In the app' },
  { channel: 'EMAIL', label: 'E-mail' },
];

export function ProfilePage() {
  return (
    <Stack spacing={2} sx={{ maxWidth: 760 }}>
      <Typography variant="h5" component="h1">
        Profile and preferences
      </Typography>
      <ProfileForm />
      <Preferences />
    </Stack>
  );
}

function ProfileForm() {
  const { notify } = useDashboard();
  const me = useQuery(MeDocument);
  const [displayName, setDisplayName] = useState('');
  const [avatarUrl, setAvatarUrl] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [save, { loading }] = useMutation(UpdateProfileDocument);
  const profile = me.data?.me;

  useEffect(() => {
    if (profile) {
      setDisplayName(profile.displayName);
      setAvatarUrl(profile.avatarUrl ?? '');
    }
  }, [profile]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      await save({ variables: { input: { displayName: displayName.trim(), avatarUrl: avatarUrl.trim() || null } } });
      notify('Profile saved', 'success');
    } catch (caught) {
      setError(describeError(caught));
    }
  };

  if (!profile) return me.loading ? <CircularProgress aria-label="Loading profile" /> : null;
  return (
    <Card variant="outlined">
      <CardContent component="form" onSubmit={(event) => void submit(event)}>
        <Stack spacing={2}>
          <Stack direction="row" spacing={1} sx={{ alignItems: 'center', flexWrap: 'wrap', rowGap: 1 }}>
            <Typography color="text.secondary">{profile.email}</Typography>
            {profile.roles.map((role) => (
              <Chip key={role} size="small" label={role.toLowerCase()} />
            ))}
            <Chip size="small" variant="outlined" label={profile.mfaEnabled ? 'two-step sign-in on' : 'two-step sign-in off'} />
          </Stack>
          <TextField label="Display name" value={displayName} onChange={(event) => setDisplayName(event.target.value)} required slotProps={{ htmlInput: { maxLength: 80 } }} />
          <TextField label="Avatar URL (https)" value={avatarUrl} onChange={(event) => setAvatarUrl(event.target.value)} placeholder="https://…" />
          {error && <Alert severity="error">{error}</Alert>}
          <Button type="submit" variant="contained" disabled={loading} sx={{ alignSelf: 'flex-start' }}>
            Save profile
          </Button>
        </Stack>
      </CardContent>
    </Card>
  );
}

function Preferences() {
  const { notify } = useDashboard();
  const { data, loading, error, refetch } = useQuery(NotificationPreferencesDocument);
  const [update] = useMutation(UpdateNotificationPreferencesDocument);
  const enabled = (kind: NotificationKind, channel: NotificationChannel) =>
    data?.myNotificationPreferences.find((preference) => preference.kind === kind && preference.channel === channel)?.enabled ?? true;

  const toggle = async (kind: NotificationKind, channel: NotificationChannel, value: boolean) => {
    try {
      await update({
        variables: { input: { preferences: [{ kind, channel, enabled: value }] } },
        update: (cache, result) => {
          if (result.data) cache.writeQuery({ query: NotificationPreferencesDocument, data: { myNotificationPreferences: result.data.updateNotificationPreferences } });
        },
      });
    } catch (caught) {
      notify(describeError(caught), 'error');
    }
  };

  return (
    <Card variant="outlined">
      <CardContent>
        <Typography variant="subtitle1" component="h2" sx={{ fontWeight: 600, mb: 1 }}>
          Notify me when…
        </Typography>
        {error && (
          <Alert severity="error" action={<Button onClick={() => void refetch()}>Retry</Button>}>
            {describeError(error)}
          </Alert>
        )}
        {loading && !data ? (
          <CircularProgress aria-label="Loading preferences" />
        ) : (
          <Table size="small" sx={{ '& td, & th': { px: { xs: 0.5, sm: 2 } } }}>
            <TableHead>
              <TableRow>
                <TableCell />
                {CHANNELS.map((channel) => (
                  <TableCell key={channel.channel} align="center">
                    {channel.label}
                  </TableCell>
                ))}
              </TableRow>
            </TableHead>
            <TableBody>
              {KINDS.map((kind) => (
                <TableRow key={kind.kind}>
                  <TableCell component="th" scope="row">
                    {kind.label}
                  </TableCell>
                  {CHANNELS.map((channel) => (
                    <TableCell key={channel.channel} align="center">
                      <Switch
                        checked={enabled(kind.kind, channel.channel)}
                        onChange={(event) => void toggle(kind.kind, channel.channel, event.target.checked)}
                        slotProps={{ input: { 'aria-label': `${kind.label}: ${channel.label}` } }}
                      />
                    </TableCell>
                  ))}
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
      </CardContent>
    </Card>
  );
}
