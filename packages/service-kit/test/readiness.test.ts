import http from 'node:http';
import express from 'express';
import { closeConnectionsWhileDraining, createReadiness, listen, type RunningServer } from '../src';

describe('readiness (/readyz)', () => {
  const readiness = createReadiness('probe-test', 200);
  let database: 'ok' | 'down' | 'hang' = 'ok';
  readiness.add('database', async () => {
    if (database === 'down') throw new Error('connection refused');
    if (database === 'hang') await new Promise((resolve) => setTimeout(resolve, 5_000).unref());
  });
  readiness.add('redis', async () => undefined);
  const app = express();
  app.get('/readyz', readiness.handler);
  app.use(closeConnectionsWhileDraining(readiness));
  app.get('/hello', (_req, res) => {
    res.json({ hello: 'world' });
  });
  let running: RunningServer;

  beforeAll(async () => {
    running = await listen(http.createServer(app), 0);
  });
  afterAll(() => running.close());

  const probe = async () => {
    const response = await fetch(`${running.url}/readyz`);
    return { status: response.status, body: await response.json() };
  };

  it('answers 200 naming every check when all pass', async () => {
    expect(await probe()).toEqual({ status: 200, body: { status: 'ready', service: 'probe-test', checks: { database: 'ok', redis: 'ok' } } });
  });

  it('answers 503 naming what failed, and bounds a check that does not answer', async () => {
    database = 'down';
    expect(await probe()).toEqual({
      status: 503,
      body: { status: 'unavailable', service: 'probe-test', checks: { database: 'connection refused', redis: 'ok' }, reason: 'database: connection refused' },
    });
    database = 'hang';
    expect((await probe()).body).toMatchObject({ status: 'unavailable', checks: { database: 'no answer within 200 ms', redis: 'ok' } });
    database = 'ok';
  });

  it('turns 503 "shutting down" once draining, and asks clients to close their connections', async () => {
    const before = await fetch(`${running.url}/hello`);
    expect(before.headers.get('connection')).not.toBe('close');
    readiness.drain();
    expect(await probe()).toMatchObject({ status: 503, body: { status: 'unavailable', reason: 'shutting down' } });
    const during = await fetch(`${running.url}/hello`);
    expect(await during.json()).toEqual({ hello: 'world' });
    expect(during.headers.get('connection')).toBe('close');
  });
});
