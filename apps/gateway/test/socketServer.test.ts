import type http from 'node:http';
import { describeClient } from '../src/subscriptions/socketServer';

const upgrade = (headers: http.IncomingHttpHeaders, remoteAddress = '10.0.0.7') => ({ headers, socket: { remoteAddress } }) as unknown as http.IncomingMessage;

describe('describeClient (what a WebSocket connection keeps of its upgrade request)', () => {
  it('keeps the address, the user agent and only the trace context headers', () => {
    const client = describeClient(
      upgrade({ 'user-agent': 'dash/1.0', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', baggage: 'a=b', cookie: 'secret=1', 'x-other': 'y' }),
    );
    expect(client).toEqual({
      ip: '10.0.0.7',
      userAgent: 'dash/1.0',
      traceHeaders: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', baggage: 'a=b' },
    });
  });

  it('has no trace headers when the client sent none, and takes the address from the trusted-proxy rule when given', () => {
    const client = describeClient(upgrade({ 'x-forwarded-for': '203.0.113.9' }), (request) => String(request.headers['x-forwarded-for']));
    expect(client).toEqual({ ip: '203.0.113.9', userAgent: undefined, traceHeaders: undefined });
  });
});
