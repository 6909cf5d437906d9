import { useDeferredValue, useState } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { Alert, Box, Button, Card, Checkbox, CircularProgress, Table, TableBody, TableCell, TableContainer, TableHead, TableRow, TextField, Typography } from '@mui/material';
import { AdminUsersDocument, SetUserRolesDocument, type Role } from '../generated/graphql';
import { describeError } from '../lib';
import { useDashboard } from './context';

const ROLES: Role[] = ['ADMIN', 'MEMBER', 'VIEWER'];

/** ADMIN only: every user with their roles; a change applies to their next token. */
export function AdminPage() {
  const { notify, viewerId } = useDashboard();
  const [search, setSearch] = useState('');
  const deferred = useDeferredValue(search.trim());
  const { data, loading, error, refetch } = useQuery(AdminUsersDocument, { variables: { search: deferred || null } });
  const [setRoles] = useMutation(SetUserRolesDocument);

  const toggle = async (userId: string, roles: readonly Role[], role: Role) => {
    const next = roles.includes(role) ? roles.filter((value) => value !== role) : [...roles, role];
    if (next.length === 0) {
      notify('A user needs at least one role.', 'error');
      return;
    }
    try {
      await setRoles({ variables: { userId, roles: next } });
      notify('Roles saved. They apply from the user’s next sign-in or token refresh.', 'success');
    } catch (caught) {
      notify(describeError(caught), 'error');
    }
  };

  return (
    <Box sx={{ display: 'grid', gap: 2 }}>
      <Typography variant="h5" component="h1">
        Users and roles {data && <Typography component="span" color="text.secondary">({data.users.totalCount})</Typography>}
      </Typography>
      <TextField label="Search by name or e-mail" size="small" value={search} onChange={(event) => setSearch(event.target.value)} sx={{ maxWidth: 420 }} />
      {error && (
        <Alert severity="error" action={<Button onClick={() => void refetch()}>Retry</Button>}>
          {describeError(error)}
        </Alert>
      )}
      {loading && !data ? (
        <CircularProgress aria-label="Loading users" />
      ) : (
        <Card variant="outlined">
          <TableContainer>
            <Table size="small">
              <TableHead>
                <TableRow>
                  <TableCell>Name</TableCell>
                  <TableCell sx={{ display: { xs: 'none', sm: 'table-cell' } }}>E-mail</TableCell>
                  {ROLES.map((role) => (
                    <TableCell key={role} align="center">
                      {role.charAt(0) + role.slice(1).toLowerCase()}
                    </TableCell>
                  ))}
                </TableRow>
              </TableHead>
              <TableBody>
                {data?.users.edges.map(({ node }) => (
                  <TableRow key={node.id}>
                    <TableCell>{node.displayName}</TableCell>
                    <TableCell sx={{ display: { xs: 'none', sm: 'table-cell' } }}>{node.email}</TableCell>
                    {ROLES.map((role) => (
                      <TableCell key={role} align="center">
                        <Checkbox
                          checked={node.roles.includes(role)}
                          disabled={node.id === viewerId && role === 'ADMIN'}
                          onChange={() => void toggle(node.id, node.roles, role)}
                          slotProps={{ input: { 'aria-label': `${node.displayName}: ${role.toLowerCase()}` } }}
                        />
                      </TableCell>
                    ))}
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </TableContainer>
        </Card>
      )}
    </Box>
  );
}
