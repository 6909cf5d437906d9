import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeSupergraph, readSupergraphConfig, routingUrlVariable } from '@meridian/composition';
import {
  BENCHMARK_QUERY,
  SINGLE_SUBGRAPH_QUERY,
  SUPERGRAPH_CONFIG_PATH,
  expectedBenchmarkResult,
  expectedSingleSubgraphResult,
  startBenchmarkSubgraphs,
  type RunningSubgraphs,
} from '@meridian/federation-scenario';
import { startGatewayUnderTest, type GatewayKind, type RunningGateway } from '../src/federation/gateways';
import { bodyMatches } from '../src/federation/load';

// The benchmark only counts responses equal to the expected result: these tests make sure the
// scenario (subgraphs + supergraph + expected result) is right, through real gateways over HTTP.

let subgraphs: RunningSubgraphs;
let scratch: string;
let supergraph: { sdl: string; path: string; configPath: string; routingEnv: Record<string, string> };

beforeAll(async () => {
  subgraphs = await startBenchmarkSubgraphs();
  scratch = mkdtempSync(path.join(os.tmpdir(), 'federation-scenario-'));
  const configPath = SUPERGRAPH_CONFIG_PATH;
  const config = readSupergraphConfig(configPath);
  for (const entry of config.subgraphs) entry.routingUrl = subgraphs.urls[entry.name as keyof RunningSubgraphs['urls']];
  const composed = composeSupergraph(config);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  const supergraphPath = path.join(scratch, 'supergraph.graphql');
  writeFileSync(supergraphPath, composed.supergraphSdl);
  supergraph = {
    sdl: composed.supergraphSdl,
    path: supergraphPath,
    configPath,
    routingEnv: Object.fromEntries(config.subgraphs.map((entry) => [routingUrlVariable(entry.name), entry.routingUrl])),
  };
});

afterAll(async () => {
  await subgraphs?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function post(url: string, query: string) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  return { status: response.status, text: await response.text() };
}

describe('federation benchmark scenario', () => {
  test('the products subgraph answers the single-subgraph query directly', async () => {
    const { status, text } = await post(subgraphs.urls.products, SINGLE_SUBGRAPH_QUERY);
    expect(status).toBe(200);
    expect(JSON.parse(text)).toEqual(expectedSingleSubgraphResult());
  });

  test.each<GatewayKind>(['ours', 'stock'])('%s gateway returns exactly the expected result of the benchmark query', async (kind) => {
    let gateway: RunningGateway | undefined;
    try {
      gateway = await startGatewayUnderTest({
        kind,
        supergraphSdl: supergraph.sdl,
        supergraphPath: supergraph.path,
        supergraphConfigPath: supergraph.configPath,
        routingEnv: supergraph.routingEnv,
      });
      const { status, text } = await post(gateway.url, BENCHMARK_QUERY);
      expect(status).toBe(200);
      const body = JSON.parse(text);
      expect(body.errors).toBeUndefined();
      expect(body).toEqual(expectedBenchmarkResult());
      // 6 users x 2 reviews and 5 top products, as in the public benchmark.
      expect(body.data.users).toHaveLength(6);
      expect(body.data.topProducts.map((p: { name: string }) => p.name)).toEqual(['Table', 'Couch', 'Glass', 'Chair', 'TV']);
      expect(bodyMatches(expectedBenchmarkResult())(text)).toBe(true);
    } finally {
      await gateway?.close();
    }
  });

  test('a response that differs in one field does not count', () => {
    const expected = expectedBenchmarkResult();
    const matches = bodyMatches(expected);
    const wrong = structuredClone(expected);
    wrong.data.topProducts[0]!.reviews[0]!.author.name = 'Someone Else';
    expect(matches(JSON.stringify(expected))).toBe(true);
    expect(matches(JSON.stringify(wrong))).toBe(false);
    expect(matches('{"errors":[{"message":"boom"}]}')).toBe(false);
    expect(matches('not json')).toBe(false);
  });
});
