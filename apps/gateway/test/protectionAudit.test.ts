import { serverAudits } from 'graphql-http';
import {
  startProtectedGateway,
  startSubgraphRecorders,
  startTestTokenIssuer,
  type Recorders,
  type StartedGateway,
} from './protectionHarness';
import type { TestTokenIssuer } from '@meridian/testing';

/** Apollo Server answers request errors with 400 even to `Accept: application/json` (the spec's SHOULD is 200). */
const STATUS_400_WARNINGS = ['572B', 'FDE2', '7B9B'];

/**
 * Three audits query `__type(name: ...)`, i.e. introspection, which production turns off on
 * purpose (issue requirement): two MUST audits fail and one SHOULD audit warns, for that reason only.
 */
const INTROSPECTION_AUDITS = { errors: ['BF61', '28B9'], warnings: ['2EA1'] };

/** CSRF prevention refuses GET requests that carry no preflight-forcing header (MAY audits: notices). */
const CSRF_NOTICES = ['5A70', 'D6D5', '6A70'];

const EXPECTED = {
  development: { errors: [] as string[], warnings: STATUS_400_WARNINGS, notices: CSRF_NOTICES },
  production: { errors: INTROSPECTION_AUDITS.errors, warnings: [...INTROSPECTION_AUDITS.warnings, ...STATUS_400_WARNINGS], notices: CSRF_NOTICES },
};

/**
 * The GraphQL-over-HTTP conformance audits of graphql-http (`serverAudits`), run against the
 * real gateway with its protection on (limits, rate limits, CSRF prevention, helmet, CORS). The
 * results are pinned: no audit fails in development; in production only the introspection ones
 * do. Every warning is explained in docs/operations.md ("Protection at the gateway").
 */
describe.each(['development', 'production'] as const)('graphql-http server audits (NODE_ENV=%s)', (nodeEnv) => {
  let issuer: TestTokenIssuer;
  let recorders: Recorders;
  let started: StartedGateway;
  beforeAll(async () => {
    issuer = await startTestTokenIssuer();
    recorders = await startSubgraphRecorders();
    started = await startProtectedGateway({ recorders, issuer, env: { NODE_ENV: nodeEnv } });
  });
  afterAll(async () => {
    await started?.gateway.close();
    await recorders?.close();
    await issuer?.close();
  });

  it('passes every audit except the pinned ones, which fail or warn exactly as documented', async () => {
    const results: Record<'ok' | 'notice' | 'warn' | 'error', string[]> = { ok: [], notice: [], warn: [], error: [] };
    const reasons: string[] = [];
    for (const audit of serverAudits({ url: () => started.url })) {
      const result = await audit.fn();
      results[result.status].push(audit.id);
      if (result.status !== 'ok') reasons.push(`${result.status} ${audit.id} ${audit.name}: ${result.reason}`);
    }
    expect({ errors: results.error.sort(), warnings: results.warn.sort(), notices: results.notice.sort() }).toEqual({
      errors: [...EXPECTED[nodeEnv].errors].sort(),
      warnings: [...EXPECTED[nodeEnv].warnings].sort(),
      notices: [...EXPECTED[nodeEnv].notices].sort(),
    });
    expect(results.ok.length).toBeGreaterThan(40);
    if (nodeEnv === 'production') {
      for (const reason of reasons.filter((line) => INTROSPECTION_AUDITS.errors.some((id) => line.includes(` ${id} `)))) {
        expect(reason).toMatch(/status code is not 200|errors/i);
      }
    }
  });

  it('the production failures are introspection being off, not a transport problem', async () => {
    const query = nodeEnv === 'production' ? '{ __type(name: "Query") { name } }' : '{ __typename }';
    const response = await fetch(started.url, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ query }) });
    const body = (await response.json()) as { errors?: { message: string }[] };
    if (nodeEnv === 'production') expect(body.errors?.[0]?.message).toMatch(/introspection/i);
    else expect(body).toEqual({ data: { __typename: 'Query' } });
  });
});
