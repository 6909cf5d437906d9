import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { createSocketSink } from '../src/subscriptions/websocket';

/**
 * The WebSocket sink builds `next` frames itself (ADR 0020): a real `ws` server and client check
 * that every frame size form (7-bit, 16-bit and 64-bit lengths) arrives as the exact message,
 * interleaved with frames `ws` writes itself, and that with permessage-deflate negotiated the
 * sink leaves framing to `ws`.
 */
async function connectedPair(perMessageDeflate: boolean) {
  const server = new WebSocketServer({ port: 0, perMessageDeflate });
  await new Promise((resolve) => server.once('listening', resolve));
  const accepted = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { perMessageDeflate });
  const received: string[] = [];
  client.on('message', (data) => received.push(data.toString()));
  await new Promise((resolve) => client.once('open', resolve));
  const serverSide = await accepted;
  return {
    serverSide,
    received,
    client,
    async close() {
      client.terminate();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
};

describe('WebSocket sink', () => {
  it.each([false, true])('delivers next messages of every frame size as sent (permessage-deflate %s)', async (deflate) => {
    const pair = await connectedPair(deflate);
    try {
      expect(pair.serverSide.extensions === '').toBe(!deflate);
      const sink = createSocketSink(pair.serverSide, 'op-1');
      const results = [{ data: { n: 1 } }, { data: { text: 'é'.repeat(150) } }, { data: { text: 'x'.repeat(70_000) } }];
      for (const [index, result] of results.entries()) {
        sink.write(Buffer.from(JSON.stringify(result)));
        // A frame ws writes itself, between ours.
        pair.serverSide.send(JSON.stringify({ type: 'ping', index }));
      }
      await until(() => pair.received.length === 6);
      expect(pair.received.map((text) => JSON.parse(text))).toEqual(
        results.flatMap((result, index) => [{ id: 'op-1', type: 'next', payload: result }, { type: 'ping', index }]),
      );
      await until(() => sink.pending() === 0);
      expect(sink.pending()).toBe(0);
    } finally {
      await pair.close();
    }
  });

  it('writes nothing once the socket is closing', async () => {
    const pair = await connectedPair(false);
    try {
      const sink = createSocketSink(pair.serverSide, 'op-1');
      pair.serverSide.close(1000);
      sink.write(Buffer.from('{"data":{}}'));
      expect(sink.pending()).toBe(0);
    } finally {
      await pair.close();
    }
  });
});
