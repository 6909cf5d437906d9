export { generateResolverTypes, type GenerateOptions } from './generate';
