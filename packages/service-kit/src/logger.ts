import pino, { type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs; credentials never reach the output. */
export function createLogger(service: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name: service,
    level,
    redact: {
      paths: [
        'password',
        '*.password',
        'req.headers.authorization',
        'headers.authorization',
        'accessToken',
        'refreshToken',
        '*.accessToken',
        '*.refreshToken',
        'variables.input.password',
      ],
      censor: '[redacted]',
    },
  });
}
