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

const SECRET_SET: ReadonlySet<string> = new Set(SECRET_FIELDS.map((field) => field.toLowerCase()));
const MAX_DEPTH = 8;

/**
 * Returns `value` with every property named like a secret (SECRET_FIELDS, case-insensitive)
 * replaced by `[redacted]`, at any depth up to 8, in plain objects and arrays. Copies only the
 * objects on the way to a secret; returns the same object when there is none (the usual case).
 * Hand-written rather than pino's path-based `redact`: covering every depth with wildcard paths
 * made each log line several times slower (see docs/adr/0012).
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let index = 0; index < value.length; index++) {
      const item = value[index] as unknown;
      const redacted = redactSecrets(item, depth + 1);
      if (redacted !== item) (copy ??= [...value])[index] = redacted;
    }
    return (copy ?? value) as T;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return value; // errors, dates, buffers: serializers handle them
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key];
    const redacted = SECRET_SET.has(key.toLowerCase()) ? '[redacted]' : redactSecrets(item, depth + 1);
    if (redacted !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = redacted;
  }
  return (copy ?? value) as T;
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
