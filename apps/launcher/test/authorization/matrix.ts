/**
 * The authorization matrix: for every root operation of the supergraph, what each kind of caller
 * gets, for their own resource and for someone else's where ownership matters. Written once here;
 * docs/authorization-matrix.md is generated from it (`npx tsx apps/launcher/test/authorization/writeMatrixDoc.ts`)
 * and authorizationMatrix.test.ts asserts every cell against the running platform.
 *
 * "Own" task: the caller created it or is its assignee. "Own" comment: the caller wrote it.
 * "Own" notification / session: it belongs to the caller.
 */
export const CALLERS = ['anonymous', 'VIEWER', 'MEMBER', 'ADMIN'] as const;
export type Caller = (typeof CALLERS)[number];

/** `allowed`: the operation runs (its probe's expected result); `null`: data null, no error; else the error code. */
export type Verdict = 'allowed' | 'null' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND';
export type Cell = Verdict | { own: Verdict; other: Verdict };
export type Row = Record<Caller, Cell>;

const A = 'allowed' as const;
const U = 'UNAUTHENTICATED' as const;
const F = 'FORBIDDEN' as const;
const N = 'NOT_FOUND' as const;
const open: Row = { anonymous: A, VIEWER: A, MEMBER: A, ADMIN: A };
const signedIn: Row = { anonymous: U, VIEWER: A, MEMBER: A, ADMIN: A };
const writers: Row = { anonymous: U, VIEWER: F, MEMBER: A, ADMIN: A };
const admins: Row = { anonymous: U, VIEWER: F, MEMBER: F, ADMIN: A };
const ownTask: Row = { anonymous: U, VIEWER: { own: F, other: F }, MEMBER: { own: A, other: F }, ADMIN: { own: A, other: A } };
const ownPrivate: Row = { anonymous: U, VIEWER: { own: A, other: N }, MEMBER: { own: A, other: N }, ADMIN: { own: A, other: N } };

export const MATRIX: Record<string, Row> = {
  'Query.me': { anonymous: 'null', VIEWER: A, MEMBER: A, ADMIN: A },
  'Query.user': signedIn,
  'Query.users': signedIn,
  'Query.auditLog': admins,
  'Query.task': signedIn,
  'Query.tasks': signedIn,
  'Query.project': signedIn,
  'Query.projects': signedIn,
  'Query.myNotificationPreferences': signedIn,
  'Query.dashboardStats': signedIn,

  'Mutation.signUp': open,
  'Mutation.logIn': open,
  'Mutation.verifyMfa': open,
  'Mutation.refreshSession': open,
  'Mutation.requestPasswordReset': open,
  'Mutation.resetPassword': open,
  'Mutation.logOut': signedIn,
  'Mutation.logOutEverywhere': signedIn,
  'Mutation.revokeSession': ownPrivate,
  'Mutation.changePassword': signedIn,
  'Mutation.startMfaEnrollment': signedIn,
  'Mutation.confirmMfaEnrollment': signedIn,
  'Mutation.disableMfa': signedIn,
  'Mutation.setUserRoles': admins,
  'Mutation.unlockAccount': admins,
  'Mutation.rotateSigningKey': admins,
  'Mutation.updateProfile': signedIn,
  'Mutation.createProject': writers,
  'Mutation.createTask': writers,
  'Mutation.updateTask': ownTask,
  'Mutation.assignTask': ownTask,
  'Mutation.deleteTask': ownTask,
  'Mutation.addComment': writers,
  'Mutation.deleteComment': { anonymous: U, VIEWER: F, MEMBER: { own: A, other: F }, ADMIN: { own: A, other: A } },
  'Mutation.markNotificationRead': ownPrivate,
  'Mutation.markAllNotificationsRead': signedIn,
  'Mutation.updateNotificationPreferences': signedIn,

  'Subscription.taskChanged': signedIn,
  'Subscription.notificationReceived': signedIn,
  'Subscription.statsUpdated': signedIn,
};

/** One assertion per entry: (field, caller, whose resource or undefined, expected verdict). */
export function matrixCells(): { field: string; caller: Caller; whose?: 'own' | 'other'; verdict: Verdict }[] {
  return Object.entries(MATRIX).flatMap(([field, row]) =>
    CALLERS.flatMap((caller) => {
      const cell = row[caller];
      return typeof cell === 'string'
        ? [{ field, caller, verdict: cell }]
        : [
            { field, caller, whose: 'own' as const, verdict: cell.own },
            { field, caller, whose: 'other' as const, verdict: cell.other },
          ];
    }),
  );
}

const label: Record<Verdict, string> = { allowed: '✅ allowed', null: '∅ null', UNAUTHENTICATED: '🔒 UNAUTHENTICATED', FORBIDDEN: '⛔ FORBIDDEN', NOT_FOUND: '❔ NOT_FOUND' };
const show = (cell: Cell) => (typeof cell === 'string' ? label[cell] : `own: ${label[cell.own]}<br>other's: ${label[cell.other]}`);

/** docs/authorization-matrix.md; `declared` maps `Type.field` to its directives as composed in the supergraph. */
export function renderMatrixMarkdown(declared: Map<string, string>): string {
  const lines = [
    '# Authorization matrix',
    '',
    '<!-- Generated from apps/launcher/test/authorization/matrix.ts by `npx tsx apps/launcher/test/authorization/writeMatrixDoc.ts`; a test fails on drift. -->',
    '',
    'Every root operation of the supergraph, what each caller gets, and the directives that decide it',
    '(declared in the subgraph SDLs, composed into `supergraph.graphql`). Each cell is asserted against the',
    'running platform through the gateway by `apps/launcher/test/authorizationMatrix.test.ts`; an operation',
    'without a row fails that test. "Own" task: the caller created it or is its assignee; own comment: the',
    "caller wrote it; own notification or session: it belongs to the caller. Someone else's notification or",
    'session answers NOT_FOUND, like an unknown id (its existence is private).',
    '',
    '| operation | directives | anonymous | VIEWER | MEMBER | ADMIN |',
    '|---|---|---|---|---|---|',
  ];
  for (const [field, row] of Object.entries(MATRIX)) {
    lines.push(`| \`${field}\` | ${declared.get(field) ?? 'none (public)'} | ${CALLERS.map((caller) => show(row[caller])).join(' | ')} |`);
  }
  lines.push('');
  return lines.join('\n');
}
