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
function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

const pidOf = async (port: number): Promise<number> => Number(await get(port, '/'));

/** The fixture's peer endpoints answer JSON. */
const getJson = async <T>(port: number, path: string): Promise<T & { pid: number; slot: number }> => JSON.parse(await get(port, path));

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

  it('shares counters between the workers, and gives back the units of a worker that dies', async () => {
    const port = await freePort();
    const fixture = runFixture({ FIXTURE_PORT: String(port) });
    try {
      await eventually(() => expect(fixture.output()).toMatch(/fixture: 2 workers started/), 60_000);
      const acquire = () => getJson<{ granted: boolean }>(port, '/acquire?key=user-1&limit=3');
      // Connections reach the workers in turn: six tries over both, three units in all.
      const tries = [];
      for (let index = 0; index < 6; index++) tries.push(await acquire());
      expect(new Set(tries.map((each) => each.slot)).size).toBe(2);
      expect(tries.filter((each) => each.granted)).toHaveLength(3);
      expect((await getJson<{ granted: boolean }>(port, '/acquire?key=user-2&limit=3')).granted).toBe(true);

      // A unit given back on one worker can be taken on either.
      const heldBy = new Map<number, { pid: number; units: number }>();
      for (const each of tries.filter((one) => one.granted)) heldBy.set(each.slot, { pid: each.pid, units: (heldBy.get(each.slot)?.units ?? 0) + 1 });
      for (;;) {
        // A release from a worker that holds no unit of the key frees nothing.
        const { slot } = await getJson(port, '/release?key=user-1');
        const holder = heldBy.get(slot);
        if (!holder) continue;
        holder.units -= 1;
        break;
      }
      const retaken = await eventually(async () => {
        const answer = await acquire();
        expect(answer.granted).toBe(true);
        return answer;
      }, 5_000);
      heldBy.set(retaken.slot, { pid: retaken.pid, units: (heldBy.get(retaken.slot)?.units ?? 0) + 1 });
      expect((await acquire()).granted).toBe(false);

      // Kill a worker that holds units: they all come back once it is gone.
      const victim = [...heldBy.values()].sort((a, b) => b.units - a.units)[0]!;
      process.kill(victim.pid, 'SIGKILL');
      await eventually(() => expect(fixture.output()).toMatch(/fixture: worker \d+ started/), 30_000);
      let regained = 0;
      for (let index = 0; index < 6; index++) if ((await acquire()).granted) regained += 1;
      expect(regained).toBe(victim.units);
    } finally {
      fixture.child.kill('SIGKILL');
    }
  });

  it('kills a worker that stops reading its messages before they pile up in the primary, and replaces it', async () => {
    const port = await freePort();
    const fixture = runFixture({ FIXTURE_PORT: String(port), FIXTURE_STALL_MS: '2000' });
    try {
      await eventually(() => expect(fixture.output()).toMatch(/fixture: 2 workers started \(pids (\d+), (\d+)\)/), 60_000);
      const [, first, second] = /pids (\d+), (\d+)/.exec(fixture.output())!;
      // The other worker blocks its loop for 60 s; 5,000 messages of 5 KB cannot all wait in the channel.
      const sender = await getJson(port, '/stall-peer?ms=60000&n=5000&size=5000');
      const stalled = sender.pid === Number(first) ? Number(second) : Number(first);
      await eventually(() => expect(fixture.output()).toMatch(new RegExp(`fixture: worker ${stalled} has read none of \\d+ messages for \\d+ ms: killing it`)), 20_000);
      await eventually(() => expect(fixture.output()).toContain(`fixture: worker ${stalled} exited (signal SIGKILL), starting another`), 10_000);
      await eventually(() => expect(fixture.output()).toMatch(/fixture: worker \d+ started/), 30_000);
      expect(fixture.output()).not.toContain(`worker ${sender.pid} has read none`);
      // Both workers serve again.
      const pids = new Set<number>();
      for (let index = 0; index < 6; index++) pids.add(await pidOf(port));
      expect(pids.size).toBe(2);
      expect(pids.has(stalled)).toBe(false);
    } finally {
      fixture.child.kill('SIGKILL');
    }
  });
});
