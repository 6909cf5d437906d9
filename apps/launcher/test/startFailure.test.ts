import net from 'node:net';
import { startPlatform } from '../src/platform';

function occupy(): Promise<net.Server> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

describe('a service that fails to start', () => {
  it('stops the whole start with a message naming the service, leaving nothing running', async () => {
    const blocker = await occupy();
    const taken = (blocker.address() as net.AddressInfo).port;
    const started: { name: string; url: string }[] = [];
    try {
      await expect(
        startPlatform({
          env: { AUTH_PORT: '0', USER_PORT: '0', TASK_PORT: String(taken), GATEWAY_PORT: '0', DATA_DIR: ':memory:', LOG_LEVEL: 'silent' },
          onServiceStarted: (service) => started.push(service),
        }),
      ).rejects.toThrow(`task failed to start: Port ${taken} on 127.0.0.1 is already in use.`);
    } finally {
      blocker.close();
    }
    // auth (and maybe user) had started; they must have been stopped again.
    expect(started.map((service) => service.name)).toContain('auth');
    for (const service of started) {
      await expect(fetch(`${service.url}/healthz`)).rejects.toThrow();
    }
  });

  it('rejects a malformed variable with a message naming it', async () => {
    await expect(startPlatform({ env: { AUTH_PORT: 'not-a-port', DATA_DIR: ':memory:', LOG_LEVEL: 'silent' } })).rejects.toThrow(/AUTH_PORT/);
  });
});
