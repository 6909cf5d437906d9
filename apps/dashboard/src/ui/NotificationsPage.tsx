import { useQuery } from '@apollo/client/react';
import { Alert, Box, Button, Card, CircularProgress, List, ListItemButton, ListItemText, Stack, Typography } from '@mui/material';
import { NotificationsDocument } from '../generated/graphql';
import { describeError } from '../lib';
import { useDashboard } from './context';
import { useMarkAllRead, useMarkRead } from './NotificationBell';

const KIND_LABEL: Record<string, string> = {
  TASK_ASSIGNED: 'Assigned',
  TASK_STATUS_CHANGED: 'Status',
  TASK_COMMENTED: 'Comment',
  TASK_DUE_SOON: 'Due soon',
};

export function NotificationsPage() {
  const { notify } = useDashboard();
  const { data, loading, error, refetch } = useQuery(NotificationsDocument);
  const [markRead] = useMarkRead();
  const [markAll] = useMarkAllRead();
  const edges = data?.me?.notifications?.edges ?? [];
  const unread = data?.me?.unreadNotificationCount ?? 0;

  return (
    <Stack spacing={2}>
      <Stack direction="row" sx={{ alignItems: 'center', justifyContent: 'space-between', flexWrap: 'wrap', gap: 1 }}>
        <Typography variant="h5" component="h1">
          Notifications {unread > 0 && <Typography component="span" color="text.secondary">({unread} unread)</Typography>}
        </Typography>
        <Button variant="outlined" disabled={unread === 0} onClick={() => void markAll().catch((caught: unknown) => notify(describeError(caught), 'error'))}>
          Mark all read
        </Button>
      </Stack>
      {error && (
        <Alert severity="error" action={<Button onClick={() => void refetch()}>Retry</Button>}>
          {describeError(error)}
        </Alert>
      )}
      {loading && !data ? (
        <Box sx={{ display: 'grid', placeItems: 'center', p: 4 }}>
          <CircularProgress aria-label="Loading notifications" />
        </Box>
      ) : (
        <Card variant="outlined">
          {edges.length === 0 ? (
            <Typography sx={{ p: 3 }} color="text.secondary">
              No notifications yet. You will hear about tasks assigned to you, status changes and comments here.
            </Typography>
          ) : (
            <List disablePadding>
              {edges.map(({ node }) => (
                <ListItemButton
                  key={node.id}
                  divider
                  onClick={() => {
                    if (!node.readAt) void markRead(node.id, true).catch((caught: unknown) => notify(describeError(caught), 'error'));
                  }}
                  aria-label={`${node.readAt ? '' : 'Unread: '}${node.title}`}
                >
                  <Box sx={{ width: 10, height: 10, mr: 2, borderRadius: '50%', flexShrink: 0, bgcolor: node.readAt ? 'transparent' : 'primary.main' }} aria-hidden />
                  <ListItemText
                    primary={node.title}
                    secondary={`${KIND_LABEL[node.kind] ?? node.kind} · ${new Date(node.createdAt).toLocaleString()} · ${node.body}`}
                    slotProps={{ primary: { sx: { fontWeight: node.readAt ? 400 : 600 } } }}
                  />
                </ListItemButton>
              ))}
            </List>
          )}
        </Card>
      )}
    </Stack>
  );
}
