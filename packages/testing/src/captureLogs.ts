import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export interface CapturedLogs {
  logger: Logger;
  /** Every line written so far, raw. */
  text(): string;
  /** Every line written so far, parsed. */
  entries(): Record<string, any>[];
}

/** A pino logger at trace level writing to memory, without redaction: it shows what the code passes to it. */
export function captureLogs(): CapturedLogs {
  const chunks: string[] = [];
  const logger = pino(
    { level: 'trace' },
    new Writable({
      write(chunk, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    }),
  );
  return {
    logger,
    text: () => chunks.join(''),
    entries: () => chunks.flatMap((chunk) => chunk.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>)),
  };
}
