import { readFileSync } from 'node:fs';
import { base32Decode, totpAt } from '@meridian/auth-subgraph/src/domain/totp';
import { eventually, getTestModes, graphql, graphqlOk, preparePlatformEnv, type GraphQLResponse, type PreparedEnv } from '@meridian/testing';
import { startPlatform, type Platform } from '../src/platform';
import { MATRIX, matrixCells, renderMatrixMarkdown, type Caller, type Verdict } from './authorization/matrix';
import { MATRIX_DOC_PATH, declaredDirectives, readSupergraph, rootFields } from './authorization/declared';
import { collect, wsClient } from './subscriptionHelpers';

const PASSWORD = 'correct horse battery staple';
const ADMIN_EMAIL = `matrix-admin-${Date.now()}@example.com`;

interface Account {
  id: string;
  email: string;
  token: string;
  refreshToken: string;
  role: Exclude<Caller, 'anonymous'>;
}

/** An operation to send for one cell: a query with variables, made for a caller and a resource. */
interface Probe {
  query: string;
  variables?: Record<string, unknown>;
  /** What "allowed" looks like when it is not "no errors": e.g. a public mutation refusing an unknown token. */
  allowedCode?: string;
}

interface ProbeContext {
  caller: Account | undefined;
  whose: 'own' | 'other';
  /** A caller of the cell's role that may be spent (logged out, password changed...). */
  freshCaller(): Promise<Account | undefined>;
}

describe('authorization matrix table', () => {
  it('has exactly one row per root operation of the supergraph (a new operation needs a row)', () => {
    const operations = rootFields(readSupergraph()).sort();
    expect(Object.keys(MATRIX).sort()).toEqual(operations);
      });

  it('docs/authorization-matrix.md is generated from the table (run writeMatrixDoc.ts if this fails)', () => {
    expect(readFileSync(MATRIX_DOC_PATH, 'utf8')).toBe(renderMatrixMarkdown(declaredDirectives(readSupergraph())));
  });

});

// The whole platform, one mode: the matrix is about authorization, not storage (the other suites cover both modes).
const mode = getTestModes()[0]!;

describe(`authorization matrix through the gateway (${mode.name})`, () => {
  let prepared: PreparedEnv;
  let platform: Platform;
  let url: string;
  let admin: Account;
  let other: Account;
  const standing = new Map<Caller, Account | undefined>();

  const request = (query: string, token?: string, variables?: Record<string, unknown>) => graphql(url, query, { ...(token ? { token } : {}), ...(variables ? { variables } : {}) });
  const ok = (query: string, token?: string, variables?: Record<string, unknown>) => graphqlOk(url, query, { ...(token ? { token } : {}), ...(variables ? { variables } : {}) });

  async function signUp(name: string, email = `${name.toLowerCase()}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`): Promise<Account> {
    const data = await ok(`mutation($input: SignUpInput!) { signUp(input: $input) { accessToken refreshToken user { id } } }`, undefined, {
      input: { email, password: PASSWORD, displayName: name },
    });
    return { id: data.signUp.user.id, email, token: data.signUp.accessToken, refreshToken: data.signUp.refreshToken, role: 'MEMBER' };
  }

  async function logIn(email: string) {
    const data = await ok(`mutation($input: LogInInput!) { logIn(input: $input) { accessToken refreshToken } }`, undefined, { input: { email, password: PASSWORD } });
    return { token: data.logIn.accessToken as string, refreshToken: data.logIn.refreshToken as string };
  }

  async function account(role: Exclude<Caller, 'anonymous'>): Promise<Account> {
    const created = await signUp(role);
    if (role === 'MEMBER') return created;
    await ok(`mutation($userId: ID!, $roles: [Role!]!) { setUserRoles(userId: $userId, roles: $roles) { roles } }`, admin.token, { userId: created.id, roles: [role] });
    return { ...created, ...(await logIn(created.email)), role };
  }

  async function createTask(token: string, assigneeId?: string): Promise<string> {
    const data = await ok(`mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }`, token, { input: { title: 'Matrix task', ...(assigneeId ? { assigneeId } : {}) } });
    return data.createTask.id;
  }

  /** A task the caller owns (created, or for a VIEWER assigned to them), or one of `other`'s. */
  async function taskFor(caller: Account | undefined, whose: 'own' | 'other'): Promise<string> {
    if (whose === 'other' || !caller) return createTask(other.token);
    return caller.role === 'VIEWER' ? createTask(other.token, caller.id) : createTask(caller.token);
  }

  async function commentFor(caller: Account | undefined, whose: 'own' | 'other'): Promise<string> {
    const taskId = await createTask(other.token);
    const author = whose === 'own' && caller ? caller : other;
    const data = await ok(`mutation($taskId: ID!) { addComment(taskId: $taskId, body: "Matrix comment") { id } }`, author.token, { taskId });
    return data.addComment.id;
  }

  /** A new notification of `owner`: someone assigns them a task; read back through their own list. */
  async function notificationOf(owner: Account): Promise<string> {
    const before = new Set(await notificationIds(owner));
    await createTask(owner.id === other.id ? admin.token : other.token, owner.id);
    return eventually(async () => {
      const fresh = (await notificationIds(owner)).find((id) => !before.has(id));
      if (!fresh) throw new Error(`no new notification for ${owner.email} yet`);
      return fresh;
    }, 20_000);
  }

  async function notificationIds(owner: Account): Promise<string[]> {
    const data = await ok(`{ me { notifications(first: 100) { edges { node { id } } } } }`, owner.token);
    return data.me.notifications.edges.map((edge: { node: { id: string } }) => edge.node.id);
  }

  async function sessionOf(owner: Account): Promise<string> {
    const data = await ok(`{ me { sessions { id current } } }`, owner.token);
    return data.me.sessions.find((session: { current: boolean }) => session.current).id;
  }

  /** An account with MFA on, and a log-in waiting for its second step. */
  async function mfaChallenge(): Promise<{ mfaToken: string; code: string }> {
    const user = await signUp('Mfa');
    const enrolment = await ok(`mutation { startMfaEnrollment { secret } }`, user.token);
    const secret = base32Decode(enrolment.startMfaEnrollment.secret);
    await ok(`mutation($code: String!) { confirmMfaEnrollment(code: $code) }`, user.token, { code: totpAt(secret, new Date()) });
    const login = await ok(`mutation($input: LogInInput!) { logIn(input: $input) { mfaChallenge { mfaToken } } }`, undefined, { input: { email: user.email, password: PASSWORD } });
    // The code just used for enrolment cannot be replayed; the next time step's is inside the ±1 window.
    return { mfaToken: login.logIn.mfaChallenge.mfaToken, code: totpAt(secret, new Date(Date.now() + 30_000)) };
  }

  const PROBES: Record<string, (context: ProbeContext) => Promise<Probe>> = {
    'Query.me': async () => ({ query: '{ me { id } }' }),
    'Query.user': async () => ({ query: 'query($id: ID!) { user(id: $id) { id } }', variables: { id: other.id } }),
    'Query.users': async () => ({ query: '{ users(first: 1) { totalCount } }' }),
    'Query.auditLog': async () => ({ query: '{ auditLog(first: 1) { edges { node { kind } } } }' }),
    'Query.task': async ({ caller }) => ({ query: 'query($id: ID!) { task(id: $id) { id } }', variables: { id: await taskFor(caller, 'other') } }),
    'Query.tasks': async () => ({ query: '{ tasks(first: 1) { edges { node { id } } } }' }),
    'Query.project': async () => {
      const project = await ok(`mutation { createProject(input: { name: "Matrix" }) { id } }`, other.token);
      return { query: 'query($id: ID!) { project(id: $id) { id } }', variables: { id: project.createProject.id } };
    },
    'Query.projects': async () => ({ query: '{ projects(first: 1) { edges { node { id } } } }' }),
    'Query.myNotificationPreferences': async () => ({ query: '{ myNotificationPreferences { kind channel enabled } }' }),
    'Query.dashboardStats': async () => ({ query: '{ dashboardStats { totals { tasksCreated } } }' }),

    'Mutation.signUp': async () => ({
      query: 'mutation($input: SignUpInput!) { signUp(input: $input) { user { id } } }',
      variables: { input: { email: `new-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`, password: PASSWORD, displayName: 'New' } },
    }),
    'Mutation.logIn': async () => ({ query: 'mutation($input: LogInInput!) { logIn(input: $input) { accessToken } }', variables: { input: { email: other.email, password: PASSWORD } } }),
    'Mutation.verifyMfa': async () => {
      const { mfaToken, code } = await mfaChallenge();
      return { query: 'mutation($input: VerifyMfaInput!) { verifyMfa(input: $input) { accessToken } }', variables: { input: { mfaToken, code } } };
    },
    'Mutation.refreshSession': async () => {
      const { refreshToken } = await logIn(other.email);
      return { query: 'mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }', variables: { t: refreshToken } };
    },
    'Mutation.requestPasswordReset': async () => ({ query: 'mutation($email: String!) { requestPasswordReset(email: $email) }', variables: { email: other.email } }),
    // The token travels only by e-mail; an unknown one reaching the domain's check proves the path is public.
    'Mutation.resetPassword': async () => ({
      query: 'mutation { resetPassword(token: "not-a-reset-token", newPassword: "a brand new long password") }',
      allowedCode: 'BAD_USER_INPUT',
    }),
    'Mutation.logOut': async ({ freshCaller }) => ({ query: 'mutation { logOut }', ...(await spend(freshCaller)) }),
    'Mutation.logOutEverywhere': async ({ freshCaller }) => ({ query: 'mutation { logOutEverywhere }', ...(await spend(freshCaller)) }),
    'Mutation.revokeSession': async ({ whose, freshCaller }) => {
      const caller = await freshCaller();
      const id = whose === 'own' && caller ? await sessionOf(caller) : await sessionOf(other);
      return { query: 'mutation($id: ID!) { revokeSession(id: $id) }', variables: { id }, as: caller };
    },
    'Mutation.changePassword': async ({ freshCaller }) => ({
      query: `mutation { changePassword(currentPassword: "${PASSWORD}", newPassword: "another long password here") }`,
      ...(await spend(freshCaller)),
    }),
    'Mutation.startMfaEnrollment': async ({ freshCaller }) => ({ query: 'mutation { startMfaEnrollment { otpauthUri } }', ...(await spend(freshCaller)) }),
    'Mutation.confirmMfaEnrollment': async ({ freshCaller }) => {
      const caller = await freshCaller();
      if (!caller) return { query: 'mutation { confirmMfaEnrollment(code: "000000") }' };
      const enrolment = await ok(`mutation { startMfaEnrollment { secret } }`, caller.token);
      const code = totpAt(base32Decode(enrolment.startMfaEnrollment.secret), new Date());
      return { query: 'mutation($code: String!) { confirmMfaEnrollment(code: $code) }', variables: { code }, as: caller };
    },
    'Mutation.disableMfa': async ({ freshCaller }) => {
      const caller = await freshCaller();
      if (caller) {
        const enrolment = await ok(`mutation { startMfaEnrollment { secret } }`, caller.token);
        await ok(`mutation($code: String!) { confirmMfaEnrollment(code: $code) }`, caller.token, { code: totpAt(base32Decode(enrolment.startMfaEnrollment.secret), new Date()) });
      }
      return { query: `mutation { disableMfa(input: { password: "${PASSWORD}" }) }`, as: caller };
    },
    'Mutation.setUserRoles': async () => ({ query: 'mutation($id: ID!) { setUserRoles(userId: $id, roles: [MEMBER]) { roles } }', variables: { id: other.id } }),
    'Mutation.unlockAccount': async () => ({ query: 'mutation($id: ID!) { unlockAccount(userId: $id) }', variables: { id: other.id } }),
    'Mutation.rotateSigningKey': async () => ({ query: 'mutation { rotateSigningKey }' }),
    'Mutation.updateProfile': async () => ({ query: 'mutation { updateProfile(input: { displayName: "Renamed" }) { id } }' }),
    'Mutation.createProject': async () => ({ query: 'mutation { createProject(input: { name: "Mine" }) { id } }' }),
    'Mutation.createTask': async () => ({ query: 'mutation { createTask(input: { title: "Mine" }) { id } }' }),
    'Mutation.updateTask': async ({ caller, whose }) => ({
      query: 'mutation($id: ID!) { updateTask(id: $id, input: { status: DONE }) { status } }',
      variables: { id: await taskFor(caller, whose) },
    }),
    'Mutation.assignTask': async ({ caller, whose }) => ({
      query: 'mutation($id: ID!, $to: ID) { assignTask(id: $id, assigneeId: $to) { id } }',
      variables: { id: await taskFor(caller, whose), to: other.id },
    }),
    'Mutation.deleteTask': async ({ caller, whose }) => ({ query: 'mutation($id: ID!) { deleteTask(id: $id) }', variables: { id: await taskFor(caller, whose) } }),
    'Mutation.addComment': async () => ({ query: 'mutation($id: ID!) { addComment(taskId: $id, body: "Hi") { id } }', variables: { id: await createTask(other.token) } }),
    'Mutation.deleteComment': async ({ caller, whose }) => ({ query: 'mutation($id: ID!) { deleteComment(id: $id) }', variables: { id: await commentFor(caller, whose) } }),
    'Mutation.markNotificationRead': async ({ caller, whose }) => ({
      query: 'mutation($id: ID!) { markNotificationRead(id: $id) { id readAt } }',
      variables: { id: await notificationOf(whose === 'own' && caller ? caller : other) },
    }),
    'Mutation.markAllNotificationsRead': async () => ({ query: 'mutation { markAllNotificationsRead }' }),
    'Mutation.updateNotificationPreferences': async () => ({
      query: 'mutation { updateNotificationPreferences(input: { preferences: [{ kind: TASK_COMMENTED, channel: EMAIL, enabled: false }] }) { enabled } }',
    }),
  };

  /** Subscriptions: the cell is allowed when the first event arrives, denied when the stream fails with the code. */
  const SUBSCRIPTIONS: Record<string, { query: string; trigger: (caller: Account | undefined) => Promise<unknown> }> = {
    'Subscription.taskChanged': { query: 'subscription { taskChanged { kind taskId } }', trigger: () => createTask(other.token) },
    'Subscription.notificationReceived': {
      query: 'subscription { notificationReceived { notification { id } } }',
      trigger: (caller) => createTask(other.token, caller?.id ?? other.id),
    },
    'Subscription.statsUpdated': { query: 'subscription { statsUpdated { totals { tasksCreated } } }', trigger: () => createTask(other.token) },
  };

  async function spend(freshCaller: () => Promise<Account | undefined>) {
    return { as: await freshCaller() };
  }

  beforeAll(async () => {
    prepared = await preparePlatformEnv(mode);
    platform = await startPlatform({ env: { ...prepared.env, BOOTSTRAP_ADMIN_EMAILS: ADMIN_EMAIL } });
    url = platform.gatewayUrl;
    admin = { ...(await signUp('Admin', ADMIN_EMAIL)), role: 'ADMIN' };
    other = await signUp('Other');
    standing.set('anonymous', undefined);
    standing.set('ADMIN', admin);
    standing.set('MEMBER', await account('MEMBER'));
    standing.set('VIEWER', await account('VIEWER'));
  }, 300_000);

  afterAll(async () => {
    await platform?.stop();
    await prepared?.cleanup();
  });

  it('has a probe for every row', () => {
    expect(Object.keys({ ...PROBES, ...SUBSCRIPTIONS }).sort()).toEqual(Object.keys(MATRIX).sort());
  });

  const codesOf = (result: GraphQLResponse) => (result.errors ?? []).map((error) => error.extensions?.code as string);

  function verdictOf(result: GraphQLResponse, probe: Probe): Verdict | string {
    const codes = codesOf(result);
    if (codes.length === 0) {
      const values = Object.values(result.data ?? {});
      return values.length > 0 && values.every((value) => value === null) ? 'null' : 'allowed';
    }
    if (probe.allowedCode && codes.every((code) => code === probe.allowedCode)) return 'allowed';
    if (codes.length === 1 && ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND'].includes(codes[0]!)) return codes[0]!;
    return `unexpected: ${JSON.stringify(result.errors)}`;
  }

  const httpCells = matrixCells().filter((cell) => !cell.field.startsWith('Subscription.'));
  it.each(httpCells.map((cell) => [cell.field, cell.caller, cell.whose ?? '-', cell.verdict] as const))('%s as %s (resource: %s) → %s', async (field, caller, whose, verdict) => {
    const probe = (await PROBES[field]!({
      caller: standing.get(caller),
      whose: whose === '-' ? 'other' : whose,
      freshCaller: async () => (caller === 'anonymous' ? undefined : account(caller)),
    })) as Probe & { as?: Account };
    const token = 'as' in probe ? probe.as?.token : standing.get(caller)?.token;
    const result = await request(probe.query, token, probe.variables);
    expect({ field, caller, whose, verdict: verdictOf(result, probe) }).toEqual({ field, caller, whose, verdict });
  });

  it('a subscription event shows each subscriber only what the same query would (per-event entity fetches use their token)', async () => {
    const member = standing.get('MEMBER')!;
    const query = 'subscription { taskChanged { taskId task { createdBy { id email } } actor { id stats { tasksCreated } } } }';
    const memberClient = wsClient(url, member.token);
    const adminClient = wsClient(url, admin.token);
    try {
      const memberStream = collect(memberClient.iterate({ query }));
      const adminStream = collect(adminClient.iterate({ query }));
      const byOther = (event: any) => event?.data?.taskChanged?.actor?.id === other.id;
      await eventually(async () => {
        if (memberStream.received.some(byOther) && adminStream.received.some(byOther)) return;
        if (memberStream.ended || adminStream.ended) throw new Error(`a stream ended: ${JSON.stringify([memberStream.failure, adminStream.failure])}`);
        await createTask(other.token);
        throw new Error('no event from the other user yet');
      }, 30_000, 500);
      const seenByMember = memberStream.received.find(byOther) as any;
      const seenByAdmin = adminStream.received.find(byOther) as any;
      // Someone else's email and statistics: hidden from a member, shown to an admin, as in queries.
      expect(seenByMember.data.taskChanged.task.createdBy).toEqual({ id: other.id, email: null });
      expect(seenByMember.data.taskChanged.actor.stats).toBeNull();
      expect(seenByMember.errors.map((error: any) => [error.path.join('.'), error.extensions.code])).toEqual([['taskChanged.actor.stats', 'FORBIDDEN']]);
      expect(seenByAdmin.data.taskChanged.task.createdBy).toEqual({ id: other.id, email: other.email });
      expect(seenByAdmin.data.taskChanged.actor.stats).toEqual({ tasksCreated: expect.any(Number) });
      expect(seenByAdmin.errors).toBeUndefined();
      const asQuery = await request('query($id: ID!) { task(id: $id) { createdBy { email } } }', member.token, { id: seenByMember.data.taskChanged.taskId });
      expect(asQuery.data).toEqual({ task: { createdBy: { email: null } } });
    } finally {
      await memberClient.dispose();
      await adminClient.dispose();
    }
  });

  const subscriptionCells = matrixCells().filter((cell) => cell.field.startsWith('Subscription.'));
  it.each(subscriptionCells.map((cell) => [cell.field, cell.caller, cell.verdict] as const))('%s as %s over WebSocket → %s', async (field, caller, verdict) => {
    const spec = SUBSCRIPTIONS[field]!;
    const account = standing.get(caller);
    const client = wsClient(url, account?.token);
    try {
      const stream = collect(client.iterate({ query: spec.query }));
      let outcome: Verdict | string | undefined;
      await eventually(async () => {
        if (stream.received.length > 0) {
          const first = stream.received[0] as GraphQLResponse;
          const codes = codesOf({ ...first, status: 200 });
          outcome = codes.length === 0 ? 'allowed' : codes.length === 1 ? codes[0] : `unexpected: ${JSON.stringify(first)}`;
          return;
        }
        if (stream.ended) {
          const failure = stream.failure as { extensions?: { code?: string } }[] | Error | undefined;
          outcome = Array.isArray(failure) && failure.length === 1 ? failure[0]!.extensions?.code : `unexpected end: ${JSON.stringify(failure)}`;
          return;
        }
        // graphql-ws has no "subscription started" message: trigger events until one arrives.
        await spec.trigger(account);
        throw new Error('no event yet');
      }, 30_000, 500);
      expect({ field, caller, verdict: outcome }).toEqual({ field, caller, verdict });
    } finally {
      await client.dispose();
    }
  });
});
