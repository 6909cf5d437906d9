export { errorCodes, type ErrorCode } from './codes';
export {
  createError,
  withHttpStatus,
  createErrorMasker,
  unauthenticated,
  forbidden,
  notFound,
  conflict,
  badUserInput,
  type MaskOptions,
} from './errors';
export { renderErrorDocs } from './docs';
