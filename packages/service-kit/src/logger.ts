import pino, { type Logger } from 'pino';
import { redactSecrets, traceLogMixin } from '@meridian/observability';

export type { Logger };
/** Where log lines go (default stdout). */
export type LogDestination = pino.DestinationStream;

/**
 * Structured JSON logs. Every line written inside a traced request or event handler carries
 * `traceId`/`spanId`; request loggers add `requestId`. Credentials (passwords, tokens, TOTP
 * secrets, authorization headers...) are redacted wherever they sit (log objects and child bindings).
 */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info', destination?: LogDestination): Logger {
  const options: pino.LoggerOptions = {
    name: service,
    level,
    mixin: traceLogMixin,
    // Log objects only: pino does not pass child bindings through formatters (they hold ids, never secrets).
    formatters: { log: redactSecrets },
  };
  return destination ? pino(options, destination) : pino(options);
}
