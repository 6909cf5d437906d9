export { startPlatform, type Platform, type PlatformOptions } from './platform';
