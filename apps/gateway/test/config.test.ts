import { availableParallelism } from 'node:os';
import { loadGatewayConfig } from '../src/config';

describe('gateway configuration of failures and shutdown', () => {
  it('has defaults where a subgraph times out well before the request does', () => {
    const config = loadGatewayConfig({});
    expect(config.subgraphClient).toEqual({
      timeoutMs: 15_000,
      retries: 2,
      retryBackoffMs: 25,
      maxConnections: 128,
      circuit: { errorThresholdPercentage: 50, volumeThreshold: 5, resetTimeoutMs: 5_000, windowMs: 10_000 },
    });
    expect(config.requestTimeoutMs).toBe(20_000);
    expect(config.shutdown).toEqual({ timeoutMs: 25_000, delayMs: 0 });
    expect(config.watchSupergraph).toBe(true);
  });

  it('refuses a subgraph timeout that is not shorter than the request timeout, naming both', () => {
    expect(() => loadGatewayConfig({ SUBGRAPH_TIMEOUT_MS: '10000', GATEWAY_REQUEST_TIMEOUT_MS: '10000' })).toThrow(
      /SUBGRAPH_TIMEOUT_MS: must be shorter than GATEWAY_REQUEST_TIMEOUT_MS/,
    );
  });

  it('refuses a shutdown delay that leaves no time to drain', () => {
    expect(() => loadGatewayConfig({ SHUTDOWN_DELAY_MS: '30000', SHUTDOWN_TIMEOUT_MS: '25000' })).toThrow(/SHUTDOWN_DELAY_MS: must be shorter than SHUTDOWN_TIMEOUT_MS/);
  });

  it('names every malformed variable', () => {
    let message = '';
    try {
      loadGatewayConfig({ SUBGRAPH_RETRIES: '9', SUPERGRAPH_WATCH: 'yes', CIRCUIT_RESET_TIMEOUT_MS: 'soon' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/SUBGRAPH_RETRIES/);
    expect(message).toMatch(/SUPERGRAPH_WATCH/);
    expect(message).toMatch(/CIRCUIT_RESET_TIMEOUT_MS/);
  });
});

describe('gateway worker processes', () => {
  it('runs in one process by default, and in one per core with `auto`', () => {
    expect(loadGatewayConfig({}).workers).toBe(1);
    expect(loadGatewayConfig({ GATEWAY_WORKERS: '3' }).workers).toBe(3);
    expect(loadGatewayConfig({ GATEWAY_WORKERS: 'auto' }).workers).toBe(availableParallelism());
  });

  it.each(['0', '-1', '1.5', 'two', '', '100'])('refuses GATEWAY_WORKERS=%j, naming it', (value) => {
    expect(() => loadGatewayConfig({ GATEWAY_WORKERS: value })).toThrow(/GATEWAY_WORKERS: must be `auto` or a whole number from 1 to 99/);
  });
});
