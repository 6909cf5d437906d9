import path from 'node:path';

export { INVENTORY, PRODUCTS, REVIEWS, USERS, type ReviewRecord } from './data';
export { BENCHMARK_QUERY, SINGLE_SUBGRAPH_QUERY, expectedBenchmarkResult, expectedSingleSubgraphResult } from './query';
export { BENCHMARK_SUBGRAPHS, schemaPath, startBenchmarkSubgraphs, type BenchmarkSubgraph, type RunningSubgraphs } from './subgraphs';

/** The benchmark's supergraph.yaml (Rover format); its routing URLs are replaced by the ports the subgraphs get. */
export const SUPERGRAPH_CONFIG_PATH = path.join(__dirname, 'supergraph.yaml');
