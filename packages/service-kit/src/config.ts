import path from 'node:path';
import { z } from 'zod';

/**
 * Parses environment variables once, at the boundary. Throws one error that names every
 * offending variable, so a misconfigured container fails fast with a readable message.
 */
export function parseEnv<S extends z.ZodRawShape>(
  shape: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<S>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = issue.path.join('.');
    const value = env[variable];
    return `  ${variable}: ${issue.message}${value === undefined ? ' (not set)' : ''}`;
  });
  throw new Error(`Invalid configuration:\n${problems.join('\n')}`);
}

/** Common variable kinds, so every service spells them the same way. */
export const envSchemas = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  url: () =>
    z.string().refine((value) => {
      try {
        new URL(value);
        return true;
      } catch {
        return false;
      }
    }, 'must be an absolute URL'),
  optionalUrl: () => envSchemas.url().optional(),
  nodeEnv: () => z.enum(['development', 'production', 'test']).default('development'),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Root of the embedded databases: a path, or ":memory:" for throw-away in-memory databases. */
  dataDir: () => z.string().min(1).default('.data'),
};

export const IN_MEMORY = ':memory:';

/**
 * The embedded database directory of one service (`<DATA_DIR>/<service>`), absolute;
 * undefined means in memory.
 */
export function resolveServiceDataDir(dataDir: string, service: string): string | undefined {
  if (dataDir === IN_MEMORY) return undefined;
  return path.resolve(dataDir, service);
}
