export { startPlatform, type Platform, type PlatformOptions } from './platform';
export { planDistributedProcesses, startDistributedPlatform, type DistributedPlatform, type DistributedOptions, type PlannedProcess } from './distributed';
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
