import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { findRepoRoot } from '@meridian/composition';

export interface ProcessSpec {
  name: string;
  /** Entry file relative to the repository root, e.g. subgraphs/user/src/main.ts */
  entry: string;
  env: Record<string, string | undefined>;
  /** Health URL polled until it answers 200. */
  healthUrl: string;
}

/** Time a process has to stop on SIGTERM beyond its own bound (SHUTDOWN_TIMEOUT_MS) before it is killed. */
const KILL_MARGIN_MS = 5_000;

export interface RunningProcess {
  name: string;
  child: ChildProcess;
  /** Everything the process printed so far (kept for error messages). */
  output(): string;
  /** How the process ended (exit code, or the signal that killed it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL if it has not exited within its shutdown bound plus a margin. */
  stop(): Promise<void>;
}

/** Starts one service as its own Node process (TypeScript through tsx) and waits until healthy. */
export async function startProcess(spec: ProcessSpec, timeoutMs = 60_000): Promise<RunningProcess> {
  const root = findRepoRoot();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, spec.entry)], {
    cwd: root,
    env: spec.env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const shutdownBoundMs = Number(spec.env.SHUTDOWN_TIMEOUT_MS ?? 25_000) + KILL_MARGIN_MS;

  const handle: RunningProcess = {
    name: spec.name,
    child,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), shutdownBoundMs);
      await exited;
      clearTimeout(timer);
    },
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`${spec.name} exited with code ${child.exitCode} during start-up:\n${output.trim()}`);
    }
    try {
      const response = await fetch(spec.healthUrl);
      if (response.ok) return handle;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(`${spec.name} did not become healthy within ${timeoutMs} ms:\n${output.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
