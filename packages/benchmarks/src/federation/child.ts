/**
 * Entry point of the benchmark's child processes (forked by ./main.ts). Each process has one role
 * so that the gateway's CPU time and memory are its own:
 *   subgraphs | gateway | platform | platform-gateway | load
 * Protocol (IPC): the parent sends { type: 'start', role, options }; the child answers
 * { type: 'ready', ... }. Then { type: 'stats' } -> { type: 'stats', cpuMicros, rssBytes, peakRssBytes },
 * { type: 'load', spec } -> { type: 'loaded', result } (load role), { type: 'stop' } -> exit.
 */
import { readFileSync } from 'node:fs';
import type { GatewayUnderTestOptions } from './gateways';
import type { LoadSpec } from './load';
import { BENCHMARK_OPERATION_LIMITS, BENCHMARK_RATE_BUDGETS } from '../budgets';

// Each role loads only its own code (imported when the role starts), so a gateway's process holds
// that gateway and nothing of the others, the subgraphs or the load driver: its memory is its own.

type Message = { type: string; [key: string]: unknown };

function send(message: Message) {
  process.send?.(message);
}

/** Peak resident set size of this process (VmHWM), in bytes. */
function peakRssBytes(): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : process.memoryUsage().rss;
}

function stats() {
  const cpu = process.cpuUsage();
  return { type: 'stats', cpuMicros: cpu.user + cpu.system, userMicros: cpu.user, systemMicros: cpu.system, rssBytes: process.memoryUsage().rss, peakRssBytes: peakRssBytes() };
}

async function graphql(url: string, query: string, variables: Record<string, unknown>, token?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, any>; errors?: unknown[] };
  if (!body.data || body.errors) throw new Error(`${url}: ${JSON.stringify(body.errors ?? body)}`);
  return body.data;
}

async function startPlatformRole() {
  const { startPlatform } = await import('@meridian/launcher');
  // Embedded, always: in-memory bus and PGlite, whatever the shell exports.
  for (const key of Object.keys(process.env)) if (key === 'REDIS_URL' || key.endsWith('_DATABASE_URL')) delete process.env[key];
  const platform = await startPlatform({
    env: {
      AUTH_PORT: '0', USER_PORT: '0', TASK_PORT: '0', NOTIFICATION_PORT: '0', ANALYTICS_PORT: '0', GATEWAY_PORT: '0',
      DATA_DIR: ':memory:', LOG_LEVEL: 'warn', NODE_ENV: 'test', ACCESS_TOKEN_TTL_SECONDS: '3600',
      ...BENCHMARK_RATE_BUDGETS,
      ...BENCHMARK_OPERATION_LIMITS,
    },
  });
  const email = `bench-owner-${Date.now()}@example.com`;
  const signUp = await graphql(platform.gatewayUrl, 'mutation($input: SignUpInput!) { signUp(input: $input) { accessToken user { id } } }', {
    input: { email, password: 'correct horse battery staple', displayName: 'Bench Owner' },
  });
  const token = signUp.signUp.accessToken as string;
  const userId = signUp.signUp.user.id as string;
  const tasks: { id: string; title: string }[] = [];
  for (let index = 0; index < 10; index++) {
    const data = await graphql(platform.gatewayUrl, 'mutation($input: CreateTaskInput!) { createTask(input: $input) { id title } }', {
      input: { title: `bench task ${index}`, assigneeId: userId },
    }, token);
    tasks.push(data.createTask);
  }
  const { services } = platform;
  return {
    platform,
    ready: {
      token,
      userId,
      tasks,
      routing: {
        JWKS_URL: `${services.auth.url}/.well-known/jwks.json`,
        AUTH_SUBGRAPH_URL: `${services.auth.url}/graphql`,
        USER_SUBGRAPH_URL: `${services.user.url}/graphql`,
        TASK_SUBGRAPH_URL: `${services.task.url}/graphql`,
        NOTIFICATION_SUBGRAPH_URL: `${services.notification.url}/graphql`,
        ANALYTICS_SUBGRAPH_URL: `${services.analytics.url}/graphql`,
      },
    },
  };
}

async function start(role: string, options: Record<string, any>): Promise<{ ready: Record<string, unknown>; close: () => Promise<void> }> {
  switch (role) {
    case 'subgraphs': {
      const { startBenchmarkSubgraphs } = await import('@meridian/federation-scenario');
      const subgraphs = await startBenchmarkSubgraphs();
      return { ready: { urls: subgraphs.urls }, close: () => subgraphs.close() };
    }
    case 'gateway': {
      const { startGatewayUnderTest } = await import('./gateways');
      const gateway = await startGatewayUnderTest(options as GatewayUnderTestOptions);
      return { ready: { url: gateway.url }, close: () => gateway.close() };
    }
    case 'platform': {
      const { platform, ready } = await startPlatformRole();
      return { ready, close: () => platform.stop() };
    }
    case 'platform-gateway': {
      const { loadGatewayConfig, startGatewayService } = await import('@meridian/gateway');
      const { createLogger } = await import('@meridian/service-kit');
      const config = loadGatewayConfig({ ...process.env, ...(options.routing as Record<string, string>), GATEWAY_PORT: '0', LOG_LEVEL: 'warn', NODE_ENV: 'production', ...BENCHMARK_RATE_BUDGETS, ...BENCHMARK_OPERATION_LIMITS });
      const handle = await startGatewayService({ config, logger: createLogger('gateway', 'warn') });
      return { ready: { url: `${handle.url}/graphql` }, close: () => handle.stop() };
    }
    case 'load':
      return { ready: {}, close: async () => {} };
    default:
      throw new Error(`unknown role "${role}"`);
  }
}

let close: (() => Promise<void>) | undefined;
process.on('message', (message: Message) => {
  void (async () => {
    try {
      if (message.type === 'start') {
        const started = await start(message.role as string, (message.options ?? {}) as Record<string, any>);
        close = started.close;
        send({ type: 'ready', ...started.ready });
      } else if (message.type === 'stats') {
        send(stats());
      } else if (message.type === 'load') {
        const { runLoad } = await import('./load');
        send({ type: 'loaded', result: await runLoad(message.spec as LoadSpec) });
      } else if (message.type === 'stop') {
        await close?.();
        process.exit(0);
      }
    } catch (error) {
      send({ type: 'failed', message: (error as Error).stack ?? String(error) });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
