import { useMemo, useState } from 'react';
import { useQuery } from '@apollo/client/react';
import {
  Alert,
  AppBar,
  Avatar,
  Box,
  Button,
  Divider,
  Drawer,
  IconButton,
  LinearProgress,
  List,
  ListItemButton,
  ListItemIcon,
  ListItemText,
  Menu,
  MenuItem,
  Toolbar,
  Tooltip,
  Typography,
  useMediaQuery,
  type PaletteMode,
} from '@mui/material';
import { useTheme } from '@mui/material/styles';
import AdminPanelSettingsIcon from '@mui/icons-material/AdminPanelSettings';
import DarkModeIcon from '@mui/icons-material/DarkMode';
import InsightsIcon from '@mui/icons-material/Insights';
import LightModeIcon from '@mui/icons-material/LightMode';
import MenuIcon from '@mui/icons-material/Menu';
import NotificationsIcon from '@mui/icons-material/Notifications';
import PersonIcon from '@mui/icons-material/Person';
import ViewKanbanIcon from '@mui/icons-material/ViewKanban';
import { MeDocument } from '../generated/graphql';
import { describeError, type DashboardClient } from '../lib';
import { AdminPage } from './AdminPage';
import { AnalyticsPage } from './AnalyticsPage';
import { BoardPage } from './BoardPage';
import { useConnectionStatus } from './connectionStatus';
import { DashboardContext, type DashboardContextValue } from './context';
import { LiveUpdates } from './LiveUpdates';
import { NotificationBell } from './NotificationBell';
import { NotificationsPage } from './NotificationsPage';
import { ProfilePage } from './ProfilePage';
import { useRoute, type Page } from './route';

const DRAWER_WIDTH = 232;

const NAV: { page: Page; label: string; icon: React.ReactNode; adminOnly?: boolean }[] = [
  { page: 'board', label: 'Board', icon: <ViewKanbanIcon /> },
  { page: 'notifications', label: 'Notifications', icon: <NotificationsIcon /> },
  { page: 'analytics', label: 'Analytics', icon: <InsightsIcon /> },
  { page: 'profile', label: 'Profile', icon: <PersonIcon /> },
  { page: 'admin', label: 'Users & roles', icon: <AdminPanelSettingsIcon />, adminOnly: true },
];

/** The signed-in app: top bar, navigation (a drawer on phones), live updates and the current page. */
export function Shell(props: { client: DashboardClient; viewerId: string; mode: PaletteMode; onToggleMode(): void; notify: DashboardContextValue['notify'] }) {
  const theme = useTheme();
  const wide = useMediaQuery(theme.breakpoints.up('md'));
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [userMenu, setUserMenu] = useState<HTMLElement | null>(null);
  const [page, navigate] = useRoute();
  const me = useQuery(MeDocument);
  const status = useConnectionStatus();
  const isAdmin = me.data?.me?.roles.includes('ADMIN') ?? false;

  const context = useMemo<DashboardContextValue>(
    () => ({ client: props.client, viewerId: props.viewerId, isAdmin, notify: props.notify }),
    [props.client, props.viewerId, isAdmin, props.notify],
  );

  const go = (next: Page) => {
    navigate(next);
    setDrawerOpen(false);
  };

  const nav = (
    <Box component="nav" aria-label="Main">
      <Toolbar />
      <List>
        {NAV.filter((item) => !item.adminOnly || isAdmin).map((item) => (
          <ListItemButton key={item.page} selected={page === item.page} onClick={() => go(item.page)} aria-current={page === item.page ? 'page' : undefined}>
            <ListItemIcon>{item.icon}</ListItemIcon>
            <ListItemText primary={item.label} />
          </ListItemButton>
        ))}
      </List>
    </Box>
  );

  const name = me.data?.me?.displayName ?? '';

  return (
    <DashboardContext.Provider value={context}>
      <LiveUpdates />
      <Box sx={{ display: 'flex', minHeight: '100vh' }}>
        <AppBar position="fixed" color="default" elevation={1} sx={{ zIndex: (t) => t.zIndex.drawer + 1 }}>
          <Toolbar sx={{ gap: 1 }}>
            {!wide && (
              <IconButton edge="start" aria-label="Open navigation" onClick={() => setDrawerOpen(true)}>
                <MenuIcon />
              </IconButton>
            )}
            <Typography variant="h6" component="div" sx={{ fontWeight: 700, flexGrow: 1 }}>
              Meridian
            </Typography>
            <Tooltip title={props.mode === 'dark' ? 'Light theme' : 'Dark theme'}>
              <IconButton onClick={props.onToggleMode} aria-label="Toggle dark theme">
                {props.mode === 'dark' ? <LightModeIcon /> : <DarkModeIcon />}
              </IconButton>
            </Tooltip>
            <NotificationBell onOpenAll={() => go('notifications')} />
            <Tooltip title={name ? `Signed in as ${name}` : 'Account'}>
              <IconButton aria-label="Account menu" onClick={(event) => setUserMenu(event.currentTarget)}>
                <Avatar src={me.data?.me?.avatarUrl ?? undefined} sx={{ width: 32, height: 32 }} alt={name}>
                  {name.slice(0, 1).toUpperCase()}
                </Avatar>
              </IconButton>
            </Tooltip>
            <Menu anchorEl={userMenu} open={userMenu !== null} onClose={() => setUserMenu(null)}>
              <MenuItem disabled>{me.data?.me?.email ?? name}</MenuItem>
              <Divider />
              <MenuItem
                onClick={() => {
                  setUserMenu(null);
                  go('profile');
                }}
              >
                Profile and preferences
              </MenuItem>
              <MenuItem
                onClick={() => {
                  setUserMenu(null);
                  void props.client.signOut();
                }}
              >
                Sign out
              </MenuItem>
            </Menu>
          </Toolbar>
          {me.loading && <LinearProgress aria-label="Loading" />}
        </AppBar>
        {wide ? (
          <Drawer variant="permanent" sx={{ width: DRAWER_WIDTH, flexShrink: 0, '& .MuiDrawer-paper': { width: DRAWER_WIDTH, boxSizing: 'border-box' } }}>
            {nav}
          </Drawer>
        ) : (
          <Drawer variant="temporary" open={drawerOpen} onClose={() => setDrawerOpen(false)} sx={{ '& .MuiDrawer-paper': { width: DRAWER_WIDTH } }}>
            {nav}
          </Drawer>
        )}
        <Box component="main" sx={{ flexGrow: 1, minWidth: 0, p: { xs: 1.5, sm: 3 } }}>
          <Toolbar />
          {status === 'offline' && (
            <Alert severity="warning" role="status" sx={{ mb: 2 }}>
              Live updates are paused: the server cannot be reached. Reconnecting…
            </Alert>
          )}
          {me.error && (
            <Alert severity="error" sx={{ mb: 2 }} action={<Button onClick={() => void me.refetch()}>Retry</Button>}>
              {describeError(me.error)}
            </Alert>
          )}
          {page === 'board' && <BoardPage />}
          {page === 'notifications' && <NotificationsPage />}
          {page === 'analytics' && <AnalyticsPage />}
          {page === 'profile' && <ProfilePage />}
          {page === 'admin' && (isAdmin ? <AdminPage /> : <Alert severity="info">Only administrators can manage users and roles.</Alert>)}
        </Box>
      </Box>
    </DashboardContext.Provider>
  );
}
