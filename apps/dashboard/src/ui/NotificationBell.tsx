import { useState } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { Badge, Box, Button, Divider, IconButton, Menu, MenuItem, Tooltip, Typography } from '@mui/material';
import NotificationsIcon from '@mui/icons-material/Notifications';
import { MarkAllNotificationsReadDocument, MarkNotificationReadDocument, NotificationsDocument } from '../generated/graphql';
import { applyAllNotificationsRead, applyNotificationRead, describeError } from '../lib';
import { useDashboard } from './context';

/** The bell: live unread count, the latest notifications, mark read. */
export function NotificationBell({ onOpenAll }: { onOpenAll(): void }) {
  const { notify } = useDashboard();
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const { data } = useQuery(NotificationsDocument);
  const [markRead] = useMarkRead();
  const [markAll] = useMarkAllRead();
  const unread = data?.me?.unreadNotificationCount ?? 0;
  const latest = data?.me?.notifications?.edges.slice(0, 6) ?? [];

  return (
    <>
      <Tooltip title="Notifications">
        <IconButton aria-label={`Notifications, ${unread} unread`} onClick={(event) => setAnchor(event.currentTarget)}>
          <Badge badgeContent={unread} color="error" max={99} slotProps={{ badge: { 'data-testid': 'unread-count' } as object }}>
            <NotificationsIcon />
          </Badge>
        </IconButton>
      </Tooltip>
      <Menu anchorEl={anchor} open={anchor !== null} onClose={() => setAnchor(null)} slotProps={{ paper: { sx: { width: 360, maxWidth: 'calc(100vw - 24px)' } } }}>
        <Box sx={{ px: 2, py: 1, display: 'flex', alignItems: 'center', justifyContent: 'space-between' }}>
          <Typography variant="subtitle1" sx={{ fontWeight: 600 }}>
            Notifications
          </Typography>
          <Button size="small" disabled={unread === 0} onClick={() => void markAll().catch((error: unknown) => notify(describeError(error), 'error'))}>
            Mark all read
          </Button>
        </Box>
        <Divider />
        {latest.length === 0 && <MenuItem disabled>Nothing yet.</MenuItem>}
        {latest.map(({ node }) => (
          <MenuItem
            key={node.id}
            onClick={() => {
              if (!node.readAt) void markRead(node.id, true).catch((error: unknown) => notify(describeError(error), 'error'));
            }}
            sx={{ whiteSpace: 'normal', alignItems: 'flex-start', gap: 1 }}
          >
            <Box sx={{ width: 8, height: 8, mt: 1, borderRadius: '50%', flexShrink: 0, bgcolor: node.readAt ? 'transparent' : 'primary.main' }} aria-hidden />
            <Box>
              <Typography variant="body2" sx={{ fontWeight: node.readAt ? 400 : 600 }}>
                {node.title}
              </Typography>
              <Typography variant="caption" color="text.secondary">
                {node.body}
              </Typography>
            </Box>
          </MenuItem>
        ))}
        <Divider />
        <MenuItem
          onClick={() => {
            setAnchor(null);
            onOpenAll();
          }}
        >
          See all notifications
        </MenuItem>
      </Menu>
    </>
  );
}

/** markNotificationRead with the unread count kept right in the cache. */
export function useMarkRead(): [(id: string, wasUnread: boolean) => Promise<void>] {
  const { viewerId } = useDashboard();
  const [mutate] = useMutation(MarkNotificationReadDocument);
  return [
    async (id, wasUnread) => {
      await mutate({
        variables: { id },
        update: (cache, result) => {
          const read = result.data?.markNotificationRead;
          if (read) applyNotificationRead(cache, viewerId, read, wasUnread);
        },
      });
    },
  ];
}

export function useMarkAllRead(): [() => Promise<void>] {
  const { viewerId } = useDashboard();
  const [mutate] = useMutation(MarkAllNotificationsReadDocument);
  return [
    async () => {
      await mutate({ update: (cache) => applyAllNotificationsRead(cache, viewerId, new Date().toISOString()) });
    },
  ];
}
