export { readSupergraphConfig, resolveRoutingUrls, routingUrlVariable, type SupergraphConfig, type SubgraphEntry } from './config';
export { composeSupergraph, type CompositionOutcome } from './compose';
export { findRepoRoot, SUPERGRAPH_FILE, SUPERGRAPH_CONFIG_FILE } from './paths';
