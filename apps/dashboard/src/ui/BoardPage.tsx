import { useDeferredValue, useMemo, useState } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import {
  Alert,
  Avatar,
  Box,
  Button,
  Card,
  CardActionArea,
  CardContent,
  Chip,
  CircularProgress,
  IconButton,
  InputAdornment,
  Menu,
  MenuItem,
  Paper,
  Stack,
  TextField,
  Tooltip,
  Typography,
} from '@mui/material';
import AddIcon from '@mui/icons-material/Add';
import MoreVertIcon from '@mui/icons-material/MoreVert';
import SearchIcon from '@mui/icons-material/Search';
import {
  BoardDocument,
  BoardOptionsDocument,
  UpdateTaskDocument,
  type TaskCardFragment,
  type TaskFilter,
  type TaskStatus,
} from '../generated/graphql';
import { applyTaskChange, describeError } from '../lib';
import { useDashboard } from './context';
import { TaskDialog } from './TaskDialog';

export const STATUSES: { status: TaskStatus; label: string }[] = [
  { status: 'TODO', label: 'To do' },
  { status: 'IN_PROGRESS', label: 'In progress' },
  { status: 'DONE', label: 'Done' },
];

/** Selects whose empty value has a label ("All projects", "Anyone") show it. */
const SHOW_EMPTY = { select: { displayEmpty: true }, inputLabel: { shrink: true } } as const;

export const PRIORITY_COLOR = { LOW: 'default', MEDIUM: 'info', HIGH: 'warning', URGENT: 'error' } as const;

/** Tasks by status, filtered by project, assignee and search, updated live. */
export function BoardPage() {
  const { viewerId, notify } = useDashboard();
  const [projectId, setProjectId] = useState('');
  const [assigneeId, setAssigneeId] = useState('');
  const [search, setSearch] = useState('');
  const deferredSearch = useDeferredValue(search.trim());
  const [editing, setEditing] = useState<TaskCardFragment | 'new' | null>(null);

  const filter = useMemo<TaskFilter | null>(() => {
    const value: TaskFilter = {};
    if (projectId) value.projectId = projectId;
    if (assigneeId) value.assigneeId = assigneeId === 'me' ? viewerId : assigneeId;
    if (deferredSearch) value.search = deferredSearch;
    return Object.keys(value).length ? value : null;
  }, [projectId, assigneeId, deferredSearch, viewerId]);

  const board = useQuery(BoardDocument, { variables: { filter } });
  const options = useQuery(BoardOptionsDocument);
  const [updateTask] = useMutation(UpdateTaskDocument);
  const tasks = board.data?.tasks.edges.map((edge) => edge.node) ?? [];

  const move = async (task: TaskCardFragment, status: TaskStatus) => {
    try {
      await updateTask({
        variables: { id: task.id, input: { status } },
        optimisticResponse: { updateTask: { ...task, status } },
        update: (cache, result) => {
          if (result.data) applyTaskChange(cache, { kind: 'UPDATED', taskId: task.id, task: result.data.updateTask });
        },
      });
    } catch (error) {
      notify(describeError(error), 'error');
    }
  };

  return (
    <Stack spacing={2}>
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={1.5} sx={{ alignItems: { sm: 'center' } }}>
        <Typography variant="h5" component="h1" sx={{ flexGrow: 1 }}>
          Board
        </Typography>
        <Button variant="contained" startIcon={<AddIcon />} onClick={() => setEditing('new')}>
          New task
        </Button>
      </Stack>
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={1.5}>
        <TextField
          label="Search"
          size="small"
          value={search}
          onChange={(event) => setSearch(event.target.value)}
          sx={{ flex: 2 }}
          slotProps={{ input: { startAdornment: <InputAdornment position="start"><SearchIcon fontSize="small" /></InputAdornment> } }}
        />
        <TextField select label="Project" size="small" value={projectId} onChange={(event) => setProjectId(event.target.value)} sx={{ flex: 1, minWidth: 160 }} slotProps={SHOW_EMPTY}>
          <MenuItem value="">All projects</MenuItem>
          {options.data?.projects.edges.map(({ node }) => (
            <MenuItem key={node.id} value={node.id}>
              {node.name}
            </MenuItem>
          ))}
        </TextField>
        <TextField select label="Assignee" size="small" value={assigneeId} onChange={(event) => setAssigneeId(event.target.value)} sx={{ flex: 1, minWidth: 160 }} slotProps={SHOW_EMPTY}>
          <MenuItem value="">Anyone</MenuItem>
          <MenuItem value="me">Me</MenuItem>
          {options.data?.users.edges
            .filter(({ node }) => node.id !== viewerId)
            .map(({ node }) => (
              <MenuItem key={node.id} value={node.id}>
                {node.displayName}
              </MenuItem>
            ))}
        </TextField>
      </Stack>
      {board.error && (
        <Alert severity="error" action={<Button onClick={() => void board.refetch()}>Retry</Button>}>
          {describeError(board.error)}
        </Alert>
      )}
      {board.loading && !board.data ? (
        <Box sx={{ display: 'grid', placeItems: 'center', p: 6 }}>
          <CircularProgress aria-label="Loading tasks" />
        </Box>
      ) : (
        <Box sx={{ display: 'grid', gap: 2, gridTemplateColumns: { xs: '1fr', md: 'repeat(3, minmax(0, 1fr))' }, alignItems: 'start' }}>
          {STATUSES.map(({ status, label }) => {
            const column = tasks.filter((task) => task.status === status);
            return (
              <Paper key={status} variant="outlined" component="section" aria-label={label} data-testid={`column-${status}`} sx={{ p: 1.5, bgcolor: 'action.hover' }}>
                <Stack direction="row" sx={{ alignItems: 'center', justifyContent: 'space-between', mb: 1 }}>
                  <Typography variant="subtitle1" component="h2" sx={{ fontWeight: 600 }}>
                    {label}
                  </Typography>
                  <Chip size="small" label={column.length} aria-label={`${column.length} tasks`} />
                </Stack>
                <Stack spacing={1}>
                  {column.length === 0 && (
                    <Typography variant="body2" color="text.secondary" sx={{ p: 1 }}>
                      No tasks.
                    </Typography>
                  )}
                  {column.map((task) => (
                    <TaskCardView key={task.id} task={task} onOpen={() => setEditing(task)} onMove={(next) => void move(task, next)} />
                  ))}
                </Stack>
              </Paper>
            );
          })}
        </Box>
      )}
      {editing && (
        <TaskDialog
          task={editing === 'new' ? null : editing}
          projects={options.data?.projects.edges.map((edge) => edge.node) ?? []}
          users={options.data?.users.edges.map((edge) => edge.node) ?? []}
          onOpenOptions={() => void options.refetch()}
          onClose={() => setEditing(null)}
        />
      )}
    </Stack>
  );
}

function TaskCardView({ task, onOpen, onMove }: { task: TaskCardFragment; onOpen(): void; onMove(status: TaskStatus): void }) {
  const [menu, setMenu] = useState<HTMLElement | null>(null);
  const due = task.dueAt ? new Date(task.dueAt) : null;
  const overdue = due !== null && task.status !== 'DONE' && due.getTime() < Date.now();
  return (
    <Card variant="outlined" data-testid="task-card" data-task-id={task.id} aria-label={task.title} sx={{ position: 'relative' }}>
      <CardActionArea onClick={onOpen} aria-label={`Open "${task.title}"`}>
        <CardContent sx={{ pr: 6, '&:last-child': { pb: 1.5 } }}>
          <Typography variant="body1" sx={{ fontWeight: 600, overflowWrap: 'anywhere' }}>
            {task.title}
          </Typography>
          <Stack direction="row" spacing={0.75} sx={{ mt: 1, flexWrap: 'wrap', rowGap: 0.75, alignItems: 'center' }}>
            <Chip size="small" label={task.priority.toLowerCase()} color={PRIORITY_COLOR[task.priority]} variant="outlined" />
            {task.project && <Chip size="small" label={task.project.name} />}
            {due && <Chip size="small" label={`due ${due.toLocaleDateString()}`} color={overdue ? 'error' : 'default'} variant="outlined" />}
            {task.commentCount > 0 && <Chip size="small" label={`${task.commentCount} comments`} variant="outlined" />}
          </Stack>
          <Stack direction="row" spacing={1} sx={{ mt: 1, alignItems: 'center' }}>
            <Avatar sx={{ width: 22, height: 22, fontSize: 12 }} src={task.assignee?.avatarUrl ?? undefined}>
              {task.assignee?.displayName.slice(0, 1).toUpperCase() ?? '?'}
            </Avatar>
            <Typography variant="body2" color="text.secondary" data-testid="task-assignee">
              {task.assignee?.displayName ?? 'Unassigned'}
            </Typography>
          </Stack>
        </CardContent>
      </CardActionArea>
      <Tooltip title="Move">
        <IconButton aria-label={`Move "${task.title}"`} onClick={(event) => setMenu(event.currentTarget)} sx={{ position: 'absolute', top: 6, right: 6 }} size="small">
          <MoreVertIcon fontSize="small" />
        </IconButton>
      </Tooltip>
      <Menu anchorEl={menu} open={menu !== null} onClose={() => setMenu(null)}>
        {STATUSES.filter((option) => option.status !== task.status).map((option) => (
          <MenuItem
            key={option.status}
            onClick={() => {
              setMenu(null);
              onMove(option.status);
            }}
          >
            Move to {option.label}
          </MenuItem>
        ))}
      </Menu>
    </Card>
  );
}
