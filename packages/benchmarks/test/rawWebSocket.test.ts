import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { openRawWebSocket } from '../src/rawWebSocket';

/** The subscription benchmark's own client against a real `ws` server. */
async function server(options: { protocol?: string } = {}) {
  const wss = new WebSocketServer({ port: 0, handleProtocols: (protocols) => (options.protocol ?? [...protocols][0]) || false });
  await new Promise((resolve) => wss.once('listening', resolve));
  const connected = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/graphql`, connected, close: () => new Promise((resolve) => wss.close(resolve)) };
}

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 300 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
};

describe('benchmark WebSocket client', () => {
  it('exchanges text frames of every length form, answers pings, and reports the close code', async () => {
    const srv = await server();
    const messages: string[] = [];
    const closes: [number, string][] = [];
    const client = await openRawWebSocket(srv.url, 'graphql-transport-ws', {
      onMessage: (payload) => messages.push(payload.toString()),
      onClose: (code, reason) => closes.push([code, reason]),
    });
    const peer = await srv.connected;
    expect(peer.protocol).toBe('graphql-transport-ws');
    const fromClient: string[] = [];
    peer.on('message', (data) => fromClient.push(data.toString()));
    const pongs: string[] = [];
    peer.on('pong', (data) => pongs.push(data.toString()));

    client.send('hello');
    client.send('é'.repeat(100));
    const sizes = [10, 300, 70_000, 300_000];
    for (const size of sizes) peer.send('x'.repeat(size));
    peer.ping('are you there');
    await until(() => messages.length === sizes.length && pongs.length === 1 && fromClient.length === 2);
    expect(messages.map((text) => text.length)).toEqual(sizes);
    expect(pongs).toEqual(['are you there']);
    expect(fromClient).toEqual(['hello', 'é'.repeat(100)]);

    peer.close(4403, 'Forbidden');
    await until(() => closes.length === 1);
    expect(closes).toEqual([[4403, 'Forbidden']]);
    await srv.close();
  });

  it('refuses a server that does not accept the subprotocol', async () => {
    const srv = await server({ protocol: 'something-else' });
    await expect(openRawWebSocket(srv.url, 'graphql-transport-ws', { onMessage: () => undefined, onClose: () => undefined })).rejects.toThrow(
      'WebSocket handshake refused',
    );
    await srv.close();
  });
});
