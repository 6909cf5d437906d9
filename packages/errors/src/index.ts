export { errorCodes, type ErrorCode } from './codes';
export {
  createError,
  createErrorMasker,
  unauthenticated,
  forbidden,
  notFound,
  conflict,
  badUserInput,
  type MaskOptions,
} from './errors';
