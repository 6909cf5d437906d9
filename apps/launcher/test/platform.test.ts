import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { errorCodes, getTestModes, graphql, graphqlOk, preparePlatformEnv, type PreparedEnv } from '@meridian/testing';
import { startPlatform, type Platform } from '../src/platform';

const SIGN_UP = /* GraphQL */ `
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) { accessToken refreshToken expiresAt user { id email displayName roles } }
  }
`;

describe.each(getTestModes())('platform through the gateway ($name)', (mode) => {
  let prepared: PreparedEnv;
  let platform: Platform;
  let url: string;

  beforeAll(async () => {
    prepared = await preparePlatformEnv(mode);
    platform = await startPlatform({ env: prepared.env });
    url = platform.gatewayUrl;
  });

  afterAll(async () => {
    await platform?.stop();
    await prepared?.cleanup();
  });

  async function signUp(name: string) {
    const email = `${name.toLowerCase()}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
    const data = await graphqlOk<{ signUp: { accessToken: string; refreshToken: string; user: { id: string; email: string; displayName: string } } }>(
      url,
      SIGN_UP,
      { variables: { input: { email, password: 'correct horse battery staple', displayName: name } } },
    );
    return { ...data.signUp, email };
  }

  it('signs up, and the new user has a profile at once (across auth and user subgraphs)', async () => {
    const ada = await signUp('Ada');
    expect(ada.user.displayName).toBe('Ada');
    expect(ada.user.email).toBe(ada.email);
    const me = await graphqlOk(url, '{ me { id displayName roles sessions { current } } }', { token: ada.accessToken });
    expect(me.me).toEqual({ id: ada.user.id, displayName: 'Ada', roles: ['MEMBER'], sessions: [{ current: true }] });
  });

  it('logs in with the password, refuses a wrong one with the same error as an unknown email', async () => {
    const grace = await signUp('Grace');
    const logIn = `mutation($input: LogInInput!) { logIn(input: $input) { accessToken user { displayName } } }`;
    const ok = await graphqlOk(url, logIn, { variables: { input: { email: grace.email.toUpperCase(), password: 'correct horse battery staple' } } });
    expect(ok.logIn.user.displayName).toBe('Grace');
    const wrong = await graphql(url, logIn, { variables: { input: { email: grace.email, password: 'not the password at all' } } });
    const unknown = await graphql(url, logIn, { variables: { input: { email: 'nobody@example.com', password: 'not the password at all' } } });
    expect(errorCodes(wrong)).toEqual(['UNAUTHENTICATED']);
    expect(wrong.errors?.[0]?.message).toBe(unknown.errors?.[0]?.message);
  });

  it('queries across subgraphs: me { assignedTasks { ... assignee { displayName } } }', async () => {
    const ada = await signUp('Ada');
    const bob = await signUp('Bob');
    const create = `mutation($input: CreateTaskInput!) { createTask(input: $input) { id title assignee { displayName } createdBy { displayName } } }`;
    const created = await graphqlOk(url, create, {
      token: ada.accessToken,
      variables: { input: { title: 'Review the design', assigneeId: bob.user.id, priority: 'HIGH' } },
    });
    expect(created.createTask).toMatchObject({ title: 'Review the design', assignee: { displayName: 'Bob' }, createdBy: { displayName: 'Ada' } });

    const query = `{ me { assignedTasks { edges { node { title assignee { displayName } } } } } }`;
    const bobs = await graphqlOk(url, query, { token: bob.accessToken });
    expect(bobs.me.assignedTasks.edges).toEqual([{ node: { title: 'Review the design', assignee: { displayName: 'Bob' } } }]);
    const adas = await graphqlOk(url, query, { token: ada.accessToken });
    expect(adas.me.assignedTasks.edges).toEqual([]);
  });

  it('lets only the creator or the assignee change a task', async () => {
    const ada = await signUp('Ada');
    const eve = await signUp('Eve');
    const created = await graphqlOk(url, `mutation { createTask(input: { title: "Ada's task" }) { id } }`, { token: ada.accessToken });
    const id = created.createTask.id as string;
    const update = `mutation($id: ID!) { updateTask(id: $id, input: { status: DONE }) { id status } }`;
    const denied = await graphql(url, update, { token: eve.accessToken, variables: { id } });
    expect(errorCodes(denied)).toEqual(['FORBIDDEN']);
    const task = await graphqlOk(url, `query($id: ID!) { task(id: $id) { status } }`, { token: eve.accessToken, variables: { id } });
    expect(task.task.status).toBe('TODO');
    const allowed = await graphqlOk(url, update, { token: ada.accessToken, variables: { id } });
    expect(allowed.updateTask.status).toBe('DONE');
  });

  it('rejects bad input naming the field, and writes nothing', async () => {
    const ada = await signUp('Ada');
    const before = await graphqlOk(url, '{ tasks(first: 100) { edges { node { id } } } }', { token: ada.accessToken });
    const bad = await graphql(url, `mutation { createTask(input: { title: "   " }) { id } }`, { token: ada.accessToken });
    expect(errorCodes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(bad.errors?.[0]?.message).toContain('input.title');
    const after = await graphqlOk(url, '{ tasks(first: 100) { edges { node { id } } } }', { token: ada.accessToken });
    expect(after.tasks.edges).toHaveLength(before.tasks.edges.length);

    const weak = await graphql(url, SIGN_UP, { variables: { input: { email: 'weak@example.com', password: 'short', displayName: 'W' } } });
    expect(errorCodes(weak)).toEqual(['BAD_USER_INPUT']);
    expect(weak.errors?.[0]?.extensions?.field).toBe('input.password');
    const retry = await graphql(url, SIGN_UP, { variables: { input: { email: 'weak@example.com', password: 'long enough password', displayName: 'W' } } });
    expect(retry.errors).toBeUndefined();
  });

  it('rejects a duplicate email with CONFLICT', async () => {
    const ada = await signUp('Ada');
    const again = await graphql(url, SIGN_UP, { variables: { input: { email: ada.email.toUpperCase(), password: 'another long password', displayName: 'Ada 2' } } });
    expect(errorCodes(again)).toEqual(['CONFLICT']);
  });

  it('treats no token as anonymous and a bad token as HTTP 401 UNAUTHENTICATED', async () => {
    const anonymous = await graphqlOk(url, '{ me { id } }');
    expect(anonymous.me).toBeNull();
    const tasks = await graphql(url, '{ tasks { edges { node { id } } } }');
    expect(errorCodes(tasks)).toEqual(['UNAUTHENTICATED']);
    const ada = await signUp('Ada');
    const [header, payload, signature] = ada.accessToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, roles: ['ADMIN'] })).toString('base64url')}.${signature}`;
    const rejected = await graphql(url, '{ me { id } }', { token: forged });
    expect(rejected.status).toBe(401);
    expect(errorCodes(rejected)).toEqual(['UNAUTHENTICATED']);
  });

  it('rotates refresh tokens, detects reuse, and logs out', async () => {
    const ada = await signUp('Ada');
    const refresh = `mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }`;
    const first = await graphqlOk(url, refresh, { variables: { t: ada.refreshToken } });
    const reused = await graphql(url, refresh, { variables: { t: ada.refreshToken } });
    expect(errorCodes(reused)).toEqual(['UNAUTHENTICATED']);
    // Reuse revoked the whole session: the token issued by the first refresh is dead too.
    const afterReuse = await graphql(url, refresh, { variables: { t: first.refreshSession.refreshToken } });
    expect(errorCodes(afterReuse)).toEqual(['UNAUTHENTICATED']);

    const login = await graphqlOk(url, `mutation($e: String!) { logIn(input: { email: $e, password: "correct horse battery staple" }) { accessToken refreshToken } }`, {
      variables: { e: ada.email },
    });
    const out = await graphqlOk(url, 'mutation { logOut }', { token: login.logIn.accessToken });
    expect(out.logOut).toBe(true);
    const afterLogout = await graphql(url, refresh, { variables: { t: login.logIn.refreshToken } });
    expect(errorCodes(afterLogout)).toEqual(['UNAUTHENTICATED']);
  });

  it('serves Apollo Client like any GraphQL client', async () => {
    const ada = await signUp('Ada');
    const client = new ApolloClient({
      link: new HttpLink({ uri: url, headers: { authorization: `Bearer ${ada.accessToken}` } }),
      cache: new InMemoryCache(),
    });
    await client.mutate({ mutation: gql`mutation { createTask(input: { title: "From Apollo Client" }) { id } }` });
    const result = await client.query<{ tasks: { edges: { node: { title: string; createdBy: { displayName: string } } }[] } }>({
      query: gql`{ tasks(filter: { search: "Apollo" }) { edges { node { id title createdBy { id displayName } } } } }`,
    });
    expect(result.data?.tasks.edges.map((edge) => edge.node.title)).toEqual(['From Apollo Client']);
    expect(result.data?.tasks.edges[0]?.node.createdBy.displayName).toBe('Ada');
  });
});
