export { startPlatform, type Platform, type PlatformOptions } from './platform';
export { startDistributedPlatform, type DistributedPlatform, type DistributedOptions } from './distributed';
