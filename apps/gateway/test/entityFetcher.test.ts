import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RemoteGraphQLDataSource } from '@apollo/gateway';
import { createEntityFetcher } from '../src/subscriptions/entityFetcher';

/** A real HTTP server standing in for a subgraph; records what it received. */
async function startFakeSubgraph(answer: (body: any, req: http.IncomingMessage) => { status: number; contentType: string; body: string }) {
  const received: { body: any; headers: http.IncomingHttpHeaders }[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      const body = JSON.parse(text);
      received.push({ body, headers: req.headers });
      const reply = answer(body, req);
      res.writeHead(reply.status, { 'content-type': reply.contentType, 'x-subgraph': 'fake' });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const ENTITIES = 'query($representations:[_Any!]!){_entities(representations:$representations){...on User{displayName}}}';

describe('entity fetcher of subscription events', () => {
  const entityFetcher = createEntityFetcher();
  afterAll(() => entityFetcher.close());

  it('serves RemoteGraphQLDataSource: request body and headers out, GraphQL result back', async () => {
    const subgraph = await startFakeSubgraph((body) => ({
      status: 200,
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify({ data: { _entities: body.variables.representations.map((r: { id: string }) => ({ displayName: `User ${r.id}` })) } }),
    }));
    const source = new RemoteGraphQLDataSource({ url: subgraph.url, fetcher: entityFetcher.fetcher });
    const response = await source.process({
      kind: 0 as never,
      request: { query: ENTITIES, variables: { representations: [{ __typename: 'User', id: 'u1' }, { __typename: 'User', id: 'u2' }] }, http: { method: 'POST', url: subgraph.url, headers: new Headers({ authorization: 'Bearer abc' }) as never } },
      context: {},
    } as never);
    expect(response.data).toEqual({ _entities: [{ displayName: 'User u1' }, { displayName: 'User u2' }] });
    expect(response.errors).toBeUndefined();
    expect(subgraph.received).toHaveLength(1);
    expect(subgraph.received[0]!.headers.authorization).toBe('Bearer abc');
    expect(subgraph.received[0]!.body.variables.representations).toEqual([{ __typename: 'User', id: 'u1' }, { __typename: 'User', id: 'u2' }]);
    await subgraph.close();
  });

  it('gives status and headers as Apollo reads them, so a failing subgraph becomes a GraphQL error naming the status', async () => {
    const subgraph = await startFakeSubgraph(() => ({ status: 502, contentType: 'text/plain', body: 'upstream exploded' }));
    const raw = await entityFetcher.fetcher(subgraph.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ a }"}' });
    expect(raw.status).toBe(502);
    expect(raw.ok).toBe(false);
    expect(raw.headers.get('X-Subgraph')).toBe('fake');
    expect(await raw.text()).toBe('upstream exploded');

    const source = new RemoteGraphQLDataSource({ url: subgraph.url, fetcher: entityFetcher.fetcher });
    await expect(
      source.process({ kind: 0 as never, request: { query: ENTITIES, variables: { representations: [] }, http: { method: 'POST', url: subgraph.url, headers: new Headers() as never } }, context: {} } as never),
    ).rejects.toThrow('502: Bad Gateway');
    await subgraph.close();
  });

  it('rejects when the subgraph is not there (the executor reports it per event)', async () => {
    const subgraph = await startFakeSubgraph(() => ({ status: 200, contentType: 'application/json', body: '{}' }));
    await subgraph.close();
    await expect(entityFetcher.fetcher(subgraph.url, { method: 'POST', body: '{}' })).rejects.toThrow(/ECONNREFUSED/);
  });
});
