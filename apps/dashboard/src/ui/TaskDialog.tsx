import { useEffect, useState, type FormEvent } from 'react';
import { useMutation } from '@apollo/client/react';
import { Alert, Button, Dialog, DialogActions, DialogContent, DialogTitle, MenuItem, Stack, TextField, useMediaQuery } from '@mui/material';
import { useTheme } from '@mui/material/styles';
import {
  AssignTaskDocument,
  BoardOptionsDocument,
  CreateProjectDocument,
  CreateTaskDocument,
  DeleteTaskDocument,
  UpdateTaskDocument,
  type TaskCardFragment,
  type TaskPriority,
  type TaskStatus,
  type UpdateTaskInput,
} from '../generated/graphql';
import { applyTaskChange, describeError } from '../lib';
import { STATUSES } from './BoardPage';
import { useDashboard } from './context';

const PRIORITIES: TaskPriority[] = ['LOW', 'MEDIUM', 'HIGH', 'URGENT'];
const NEW_PROJECT = '__new__';

/** Creates a task, or edits one (fields, status, assignee) and deletes it. */
export function TaskDialog(props: {
  task: TaskCardFragment | null;
  projects: { id: string; name: string }[];
  users: { id: string; displayName: string }[];
  onOpenOptions(): void;
  onClose(): void;
}) {
  const { notify } = useDashboard();
  const theme = useTheme();
  const fullScreen = useMediaQuery(theme.breakpoints.down('sm'));
  const task = props.task;
  const [title, setTitle] = useState(task?.title ?? '');
  const [description, setDescription] = useState(task?.description ?? '');
  const [priority, setPriority] = useState<TaskPriority>(task?.priority ?? 'MEDIUM');
  const [status, setStatus] = useState<TaskStatus>(task?.status ?? 'TODO');
  const [dueDate, setDueDate] = useState(task?.dueAt ? task.dueAt.slice(0, 10) : '');
  const [projectId, setProjectId] = useState(task?.project?.id ?? '');
  const [projectName, setProjectName] = useState('');
  const [assigneeId, setAssigneeId] = useState(task?.assignee?.id ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const [createTask] = useMutation(CreateTaskDocument);
  const [updateTask] = useMutation(UpdateTaskDocument);
  const [assignTask] = useMutation(AssignTaskDocument);
  const [deleteTask] = useMutation(DeleteTaskDocument);
  const [createProject] = useMutation(CreateProjectDocument, { refetchQueries: [BoardOptionsDocument] });

  // People who signed up since the board loaded can be assigned too.
  const { onOpenOptions } = props;
  useEffect(() => onOpenOptions(), [onOpenOptions]);

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      props.onClose();
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
    }
  };

  const dueAt = dueDate ? new Date(`${dueDate}T17:00:00.000Z`).toISOString() : null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      if (!task) {
        let project = projectId || null;
        if (projectId === NEW_PROJECT) {
          const created = await createProject({ variables: { input: { name: projectName } } });
          project = created.data?.createProject.id ?? null;
        }
        await createTask({
          variables: { input: { title, description: description || null, priority, dueAt, projectId: project, assigneeId: assigneeId || null } },
          update: (cache, result) => {
            if (result.data) applyTaskChange(cache, { kind: 'CREATED', taskId: result.data.createTask.id, task: result.data.createTask });
          },
        });
        notify('Task created', 'success');
        return;
      }
      const input: UpdateTaskInput = {};
      if (title !== task.title) input.title = title;
      if ((description || null) !== task.description) input.description = description || null;
      if (priority !== task.priority) input.priority = priority;
      if (status !== task.status) input.status = status;
      if (dueAt?.slice(0, 10) !== task.dueAt?.slice(0, 10)) input.dueAt = dueAt;
      if (Object.keys(input).length) {
        await updateTask({
          variables: { id: task.id, input },
          update: (cache, result) => {
            if (result.data) applyTaskChange(cache, { kind: 'UPDATED', taskId: task.id, task: result.data.updateTask });
          },
        });
      }
      if ((assigneeId || null) !== (task.assignee?.id ?? null)) {
        await assignTask({
          variables: { id: task.id, assigneeId: assigneeId || null },
          update: (cache, result) => {
            if (result.data) applyTaskChange(cache, { kind: 'ASSIGNED', taskId: task.id, task: result.data.assignTask });
          },
        });
      }
    });
  };

  const remove = () =>
    void run(async () => {
      if (!task) return;
      await deleteTask({ variables: { id: task.id }, update: (cache) => applyTaskChange(cache, { kind: 'DELETED', taskId: task.id, task: null }) });
      notify('Task deleted', 'success');
    });

  return (
    <Dialog open onClose={props.onClose} fullScreen={fullScreen} fullWidth maxWidth="sm" aria-labelledby="task-dialog-title">
      <form onSubmit={submit} noValidate>
        <DialogTitle id="task-dialog-title">{task ? 'Edit task' : 'New task'}</DialogTitle>
        <DialogContent>
          <Stack spacing={2} sx={{ pt: 1 }}>
            <TextField label="Title" value={title} onChange={(event) => setTitle(event.target.value)} required autoFocus slotProps={{ htmlInput: { maxLength: 200 } }} />
            <TextField label="Description" value={description} onChange={(event) => setDescription(event.target.value)} multiline minRows={3} />
            <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2}>
              <TextField select label="Priority" value={priority} onChange={(event) => setPriority(event.target.value as TaskPriority)} fullWidth>
                {PRIORITIES.map((value) => (
                  <MenuItem key={value} value={value}>
                    {value.charAt(0) + value.slice(1).toLowerCase()}
                  </MenuItem>
                ))}
              </TextField>
              {task && (
                <TextField select label="Status" value={status} onChange={(event) => setStatus(event.target.value as TaskStatus)} fullWidth>
                  {STATUSES.map((option) => (
                    <MenuItem key={option.status} value={option.status}>
                      {option.label}
                    </MenuItem>
                  ))}
                </TextField>
              )}
              <TextField label="Due date" type="date" value={dueDate} onChange={(event) => setDueDate(event.target.value)} fullWidth slotProps={{ inputLabel: { shrink: true } }} />
            </Stack>
            <TextField select label="Assignee" value={assigneeId} onChange={(event) => setAssigneeId(event.target.value)} slotProps={{ select: { displayEmpty: true }, inputLabel: { shrink: true } }}>
              <MenuItem value="">Unassigned</MenuItem>
              {props.users.map((user) => (
                <MenuItem key={user.id} value={user.id}>
                  {user.displayName}
                </MenuItem>
              ))}
            </TextField>
            {!task && (
              <TextField select label="Project" value={projectId} onChange={(event) => setProjectId(event.target.value)} slotProps={{ select: { displayEmpty: true }, inputLabel: { shrink: true } }}>
                <MenuItem value="">No project</MenuItem>
                {props.projects.map((project) => (
                  <MenuItem key={project.id} value={project.id}>
                    {project.name}
                  </MenuItem>
                ))}
                <MenuItem value={NEW_PROJECT}>New project…</MenuItem>
              </TextField>
            )}
            {projectId === NEW_PROJECT && <TextField label="Project name" value={projectName} onChange={(event) => setProjectName(event.target.value)} required />}
            {error && (
              <Alert severity="error" role="alert">
                {error}
              </Alert>
            )}
          </Stack>
        </DialogContent>
        <DialogActions sx={{ px: 3, pb: 2 }}>
          {task && (
            <Button color="error" onClick={remove} disabled={busy} sx={{ mr: 'auto' }}>
              Delete
            </Button>
          )}
          <Button onClick={props.onClose} disabled={busy}>
            Cancel
          </Button>
          <Button type="submit" variant="contained" disabled={busy || !title.trim()}>
            {task ? 'Save' : 'Create'}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
