import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { initTracing, type Tracing } from './tracing';

export type { ReadableSpan };

/**
 * For tests: installs tracing with an in-memory exporter (call before starting any service;
 * the first installation in a process wins). Spans are kept until `reset()`.
 */
export function installInMemoryTracing(serviceName = 'test'): { tracing: Tracing; spans(): ReadableSpan[]; reset(): void } {
  const exporter = new InMemorySpanExporter();
  const tracing = initTracing({ serviceName, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  if (!tracing.recording) throw new Error('Tracing was installed before installInMemoryTracing() without recording; call it first.');
  return { tracing, spans: () => exporter.getFinishedSpans(), reset: () => exporter.reset() };
}
