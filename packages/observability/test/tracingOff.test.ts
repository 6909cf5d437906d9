import { activeTraceIds, currentTraceparent, getTracer, initTracing, inSpan, otelContext, contextFromTraceparent, currentRequestId } from '../src';

// No endpoint, no processors: the default of every service.
const tracing = initTracing({ serviceName: 'off-test' });

describe('tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  it('records nothing but still makes and propagates trace ids', async () => {
    expect(tracing.recording).toBe(false);
    const seen = await inSpan(getTracer('off'), 'work', {}, async (span) => ({
      recording: span.isRecording(),
      ids: activeTraceIds(),
      traceparent: currentTraceparent(),
    }));
    expect(seen.recording).toBe(false);
    expect(seen.ids?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(seen.traceparent).toBe(`00-${seen.ids?.traceId}-${seen.ids?.spanId}-00`);
  });

  it('continues an incoming traceparent and carries the request id', async () => {
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const ids = await otelContext.with(contextFromTraceparent(incoming, 'req-9'), () =>
      inSpan(getTracer('off'), 'child', {}, async () => ({ ids: activeTraceIds(), requestId: currentRequestId() })),
    );
    expect(ids.ids?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(ids.requestId).toBe('req-9');
  });
});
