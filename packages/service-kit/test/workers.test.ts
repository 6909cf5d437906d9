import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { eventually, freePort } from '@meridian/testing';

jest.setTimeout(90_000);

const FIXTURE = path.join(__dirname, 'fixtures', 'workerService.ts');

/** Runs the fixture (primary + 2 workers) and collects what it prints. */
function runFixture(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => output, exited };
}

/** GET on a connection of its own (so that consecutive requests go to the workers in turn). */
function pidOf(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve(Number(body)));
      })
      .on('error', reject);
  });
}

describe('runWorkers', () => {
  it('serves one port from two worker processes and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const fixture = runFixture({ FIXTURE_PORT: String(port) });
    try {
      await eventually(() => expect(fixture.output()).toMatch(/fixture: 2 workers started/), 60_000);
      const pids = new Set<number>();
      for (let index = 0; index < 6; index++) pids.add(await pidOf(port));
      expect(pids.size).toBe(2);
      expect(pids.has(fixture.child.pid!)).toBe(false);
      fixture.child.kill('SIGTERM');
      expect(await fixture.exited).toEqual({ code: 0, signal: null });
    } finally {
      fixture.child.kill('SIGKILL');
    }
  });

  it('gives up with exit code 1 when workers keep dying (5 replacements within a minute)', async () => {
    const port = await freePort();
    const fixture = runFixture({ FIXTURE_PORT: String(port), FIXTURE_MODE: 'crash' });
    try {
      expect(await fixture.exited).toEqual({ code: 1, signal: null });
      const output = fixture.output();
      expect(output.match(/exited \(code 3\), starting another/g)).toHaveLength(5);
      expect(output).toContain('5 workers were replaced in the last minute, giving up');
    } finally {
      fixture.child.kill('SIGKILL');
    }
  });
});
