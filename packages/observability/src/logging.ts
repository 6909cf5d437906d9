import { activeTraceIds, currentRequestId } from './tracing';

/** Field names whose values never reach a log line (matched at any of the first four levels). */
export const SECRET_FIELDS = [
  'password',
  'newPassword',
  'currentPassword',
  'oldPassword',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'resetToken',
  'secret',
  'totpSecret',
  'clientSecret',
  'otpauthUrl',
  'authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
] as const;

/** pino `redact.paths` for SECRET_FIELDS at depth 0 to 3 (`password`, `*.password`, `*.*.password`, `*.*.*.password`). */
export function secretRedactPaths(fields: readonly string[] = SECRET_FIELDS): string[] {
  const paths: string[] = [];
  for (const field of fields) {
    const key = /^[A-Za-z_$][\w$]*$/.test(field) ? field : `["${field}"]`;
    const join = (prefix: string) => (key.startsWith('[') ? `${prefix}${key}` : `${prefix}.${key}`);
    paths.push(key, join('*'), join('*.*'), join('*.*.*'));
  }
  return paths;
}

/**
 * pino `mixin`: the active trace and span ids on every line written inside a span, and the
 * request id from the trace baggage when the logger does not already carry one (event
 * consumers, code below a request that logs with the service logger).
 */
export function traceLogMixin(_merge: object, _level: number, logger?: { bindings(): Record<string, unknown> }): Record<string, string> {
  const ids = activeTraceIds();
  if (!ids) return {};
  const requestId = currentRequestId();
  if (requestId && !(logger && 'requestId' in logger.bindings())) return { traceId: ids.traceId, spanId: ids.spanId, requestId };
  return { traceId: ids.traceId, spanId: ids.spanId };
}
