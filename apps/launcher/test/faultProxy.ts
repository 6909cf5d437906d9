import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultMode = 'forward' | 'hang' | 'reset' | 'reset-once' | 'delay';

/**
 * A real HTTP hop in front of a real subgraph that can misbehave on demand: forward, hold every
 * request without answering (a slow subgraph), or cut the connection (a subgraph going away).
 * It counts the requests that reached it, so tests can see retries and a circuit failing fast.
 */
export async function startFaultProxy(targetUrl: string) {
  const target = new URL(targetUrl);
  let mode: FaultMode = 'forward';
  let requests = 0;
  let delayMs = 0;
  const held = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    requests += 1;
    if (mode === 'reset-once') {
      mode = 'forward';
      req.socket.destroy();
      return;
    }
    if (mode === 'reset') return req.socket.destroy();
    if (mode === 'hang') {
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    if (mode === 'delay') {
      setTimeout(() => forward(req, res), delayMs);
      return;
    }
    forward(req, res);
  });
  function forward(req: http.IncomingMessage, res: http.ServerResponse) {
    const upstream = http.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    /** `delay` forwards every request after `ms` (a slow but healthy subgraph). */
    setMode(next: FaultMode, ms = 0) {
      mode = next;
      delayMs = ms;
      if (next !== 'hang') for (const res of held) res.socket?.destroy();
    },
    requests: () => requests,
    async close() {
      for (const res of held) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export type FaultProxy = Awaited<ReturnType<typeof startFaultProxy>>;
