/** A started service as the launcher and tests see it. */
export interface ServiceHandle {
  name: string;
  /** Base URL (no path). */
  url: string;
  /** Bound of a graceful stop; `runMain` exits non-zero when it is exceeded (default 25 s). */
  shutdownTimeoutMs?: number;
  /** `/readyz` state of the service, when it has one (tests and the launcher read it). */
  readiness?: { draining: boolean };
  stop(): Promise<void>;
}

/**
 * Collects stop actions while a service starts, and runs them in reverse order:
 * on shutdown, and when start-up fails half-way (nothing is left running).
 */
export function createShutdownStack() {
  const actions: { name: string; run: () => Promise<void> | void }[] = [];
  let stopping: Promise<void> | undefined;
  return {
    defer(name: string, run: () => Promise<void> | void) {
      actions.push({ name, run });
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        const errors: string[] = [];
        for (const action of actions.reverse()) {
          try {
            await action.run();
          } catch (error) {
            errors.push(`${action.name}: ${(error as Error).message}`);
          }
        }
        if (errors.length) throw new Error(`Errors while stopping:\n  ${errors.join('\n  ')}`);
      })();
      return stopping;
    },
  };
}

export type ShutdownStack = ReturnType<typeof createShutdownStack>;

/** Runs `start`; if it throws, unwinds what it had started and rethrows. */
export async function startWithCleanup<T>(start: (stack: ShutdownStack) => Promise<T>): Promise<T> {
  const stack = createShutdownStack();
  try {
    return await start(stack);
  } catch (error) {
    await stack.stop().catch(() => undefined);
    throw error;
  }
}

/**
 * For main.ts: on SIGINT/SIGTERM stop gracefully (the handle drains) and exit 0, or exit 1 if
 * the stop fails or takes longer than the handle's `shutdownTimeoutMs` (default 25 s); exit
 * non-zero with a readable message on start failure.
 */
export function runMain(
  name: string,
  start: () => Promise<{ stop(): Promise<void>; shutdownTimeoutMs?: number }>,
  log: (message: string) => void = console.log,
) {
  start().then(
    (handle) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log(`${name}: ${signal} received, stopping`);
        const boundMs = handle.shutdownTimeoutMs ?? 25_000;
        const timer = setTimeout(() => {
          console.error(`${name}: did not stop within ${boundMs} ms, exiting`);
          process.exit(1);
        }, boundMs);
        timer.unref();
        handle.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            console.error(`${name}: ${(error as Error).message}`);
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    },
    (error: unknown) => {
      console.error(`${name} failed to start: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
