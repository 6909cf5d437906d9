export { startPlatform, type Platform, type PlatformOptions } from './platform';
export { startDistributedPlatform, type DistributedPlatform, type DistributedOptions } from './distributed';
export {
  DEPLOYABLES,
  SUBGRAPH_NAMES,
  deploymentEnvironment,
  getDeployable,
  isSecretVariable,
  migrationEnvironment,
  type Deployable,
  type DeployableKind,
  type SubgraphName,
  type Topology,
} from './deployment';
