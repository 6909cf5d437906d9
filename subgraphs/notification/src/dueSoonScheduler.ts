export interface DueSoonScheduler {
  /** Stops the timer and waits for a check in progress. */
  stop(): Promise<void>;
}

/**
 * Runs `check` every `intervalMs` (never two at once in this process; replicas are safe through
 * the database's once-only key). A failed check is reported and the next one runs as planned.
 */
export function startDueSoonScheduler(options: {
  intervalMs: number;
  check: (now: Date) => Promise<unknown>;
  onError: (error: unknown) => void;
}): DueSoonScheduler {
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    running = options
      .check(new Date())
      .then(
        () => undefined,
        (error: unknown) => options.onError(error),
      )
      .finally(() => {
        running = undefined;
      });
  };
  const timer = options.intervalMs > 0 ? setInterval(tick, options.intervalMs) : undefined;
  // The timer alone must not keep the process alive (stop() is the way out, but tests exit cleanly too).
  timer?.unref();
  return {
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
