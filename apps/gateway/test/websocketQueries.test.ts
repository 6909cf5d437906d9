import { startProtectedGateway, startSubgraphRecorders, startTestTokenIssuer, wsClient, wsRun, type Recorders, type StartedGateway } from './protectionHarness';
import type { TestTokenIssuer } from '@meridian/testing';

/** Queries and mutations over graphql-ws answer like HTTP, errors included. */
describe('queries over WebSocket', () => {
  let issuer: TestTokenIssuer;
  let recorders: Recorders;
  let started: StartedGateway;

  beforeAll(async () => {
    issuer = await startTestTokenIssuer();
    recorders = await startSubgraphRecorders();
    started = await startProtectedGateway({ recorders, issuer });
  });
  afterAll(async () => {
    await started?.gateway.close();
    await recorders?.close();
    await issuer?.close();
  });

  it('delivers a result with subgraph errors as a next message, the connection stays open', async () => {
    const client = wsClient(started.wsUrl, issuer.sign({ userId: 'user-ws-1' }));
    try {
      // The recorders answer every fetch with a GraphQL error: the gateway returns a partial result.
      const first = await wsRun(client, { query: '{ me { id } }' });
      expect(first.closed).toBeUndefined();
      expect(first.result?.errors?.length).toBeGreaterThan(0);
      expect(JSON.stringify(first.result?.errors)).toContain('is a recorder');
      // Same connection, second operation: the socket was not closed by the first result.
      const second = await wsRun(client, { query: '{ me { id } }' });
      expect(second.closed).toBeUndefined();
      expect(second.result?.errors?.length).toBeGreaterThan(0);
    } finally {
      await client.dispose();
    }
  });
});
