import { useQuery } from '@apollo/client/react';
import { Alert, Box, Button, Card, CardContent, CircularProgress, Stack, Typography } from '@mui/material';
import { useTheme } from '@mui/material/styles';
import { BarChart } from '@mui/x-charts/BarChart';
import { LineChart } from '@mui/x-charts/LineChart';
import { DashboardStatsDocument, TopUsersDocument, type StatsRangePreset } from '../generated/graphql';
import { describeError } from '../lib';
import { useDashboard } from './context';

/** The range the page shows and the live stream follows. */
export const STATS_PRESET: StatsRangePreset = 'LAST_7_DAYS';

function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 3600) return `${Math.max(1, Math.round(seconds / 60))} min`;
  if (seconds < 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

/** Statistics of the last 7 days, kept current by the statsUpdated stream (see LiveUpdates). */
export function AnalyticsPage() {
  const { isAdmin } = useDashboard();
  const theme = useTheme();
  const { data, loading, error, refetch } = useQuery(DashboardStatsDocument, { variables: { preset: STATS_PRESET } });
  const stats = data?.dashboardStats;

  if (loading && !stats) {
    return (
      <Box sx={{ display: 'grid', placeItems: 'center', p: 6 }}>
        <CircularProgress aria-label="Loading statistics" />
      </Box>
    );
  }
  if (error && !stats) {
    return (
      <Alert severity="error" action={<Button onClick={() => void refetch()}>Retry</Button>}>
        {describeError(error)}
      </Alert>
    );
  }
  if (!stats) return null;

  const figures = [
    { label: 'Tasks created', value: stats.totals.tasksCreated, id: 'total-created' },
    { label: 'Tasks completed', value: stats.totals.tasksCompleted, id: 'total-completed' },
    { label: 'Open tasks', value: stats.totals.openTasks, id: 'total-open' },
    { label: 'Active people', value: stats.totals.activeUsers, id: 'total-active' },
    { label: 'Average time to done', value: formatDuration(stats.totals.averageCompletionSeconds), id: 'total-average' },
  ];
  const days = stats.days.map((day) => day.date.slice(5));

  return (
    <Stack spacing={2}>
      <Typography variant="h5" component="h1">
        Analytics <Typography component="span" color="text.secondary">· last 7 days, live</Typography>
      </Typography>
      <Box sx={{ display: 'grid', gap: 1.5, gridTemplateColumns: { xs: 'repeat(2, minmax(0, 1fr))', sm: 'repeat(3, minmax(0, 1fr))', lg: 'repeat(5, minmax(0, 1fr))' } }}>
        {figures.map((figure) => (
          <Card key={figure.id} variant="outlined">
            <CardContent>
              <Typography variant="body2" color="text.secondary">
                {figure.label}
              </Typography>
              <Typography variant="h4" component="p" data-testid={figure.id}>
                {figure.value}
              </Typography>
            </CardContent>
          </Card>
        ))}
      </Box>
      <Box sx={{ display: 'grid', gap: 2, gridTemplateColumns: { xs: '1fr', lg: '2fr 1fr' } }}>
        <Card variant="outlined">
          <CardContent>
            <Typography variant="subtitle1" component="h2" sx={{ fontWeight: 600 }}>
              Created and completed per day
            </Typography>
            <Box data-testid="daily-chart" role="img" aria-label={`Per day, created: ${stats.days.map((d) => d.tasksCreated).join(', ')}; completed: ${stats.days.map((d) => d.tasksCompleted).join(', ')}`}>
              <LineChart
                height={280}
                xAxis={[{ scaleType: 'point', data: days }]}
                yAxis={[{ min: 0, tickMinStep: 1 }]}
                series={[
                  { data: stats.days.map((day) => day.tasksCreated), label: 'Created', color: theme.palette.primary.main, curve: 'linear' },
                  { data: stats.days.map((day) => day.tasksCompleted), label: 'Completed', color: theme.palette.success.main, curve: 'linear' },
                ]}
              />
            </Box>
          </CardContent>
        </Card>
        <Card variant="outlined">
          <CardContent>
            <Typography variant="subtitle1" component="h2" sx={{ fontWeight: 600 }}>
              Open by status
            </Typography>
            <BarChart
              height={280}
              xAxis={[{ scaleType: 'band', data: stats.openTasksByStatus.map((entry) => (entry.status === 'TODO' ? 'To do' : 'In progress')) }]}
              yAxis={[{ min: 0, tickMinStep: 1 }]}
              series={[{ data: stats.openTasksByStatus.map((entry) => entry.count), label: 'Open tasks', color: theme.palette.secondary.main }]}
            />
          </CardContent>
        </Card>
      </Box>
      {isAdmin ? <TopUsers /> : <Typography color="text.secondary">Per-person throughput is visible to administrators.</Typography>}
    </Stack>
  );
}

function TopUsers() {
  const theme = useTheme();
  const { data, error } = useQuery(TopUsersDocument, { variables: { preset: STATS_PRESET }, pollInterval: 30_000 });
  const rows = data?.dashboardStats.topUsers ?? [];
  return (
    <Card variant="outlined">
      <CardContent>
        <Typography variant="subtitle1" component="h2" sx={{ fontWeight: 600 }}>
          Completed per person
        </Typography>
        {error && <Alert severity="error">{describeError(error)}</Alert>}
        {rows.length === 0 ? (
          <Typography color="text.secondary">Nobody has completed a task in this range yet.</Typography>
        ) : (
          <BarChart
            height={Math.max(160, rows.length * 40)}
            layout="horizontal"
            yAxis={[{ scaleType: 'band', data: rows.map((row) => row.user.displayName), width: 100 }]}
            xAxis={[{ min: 0, tickMinStep: 1 }]}
            series={[{ data: rows.map((row) => row.tasksCompleted), label: 'Completed', color: theme.palette.success.main }]}
          />
        )}
      </CardContent>
    </Card>
  );
}
