import { createGraphQLMetrics, createLabelBucket, createServiceRegistry, MAX_OPERATION_NAMES, OTHER_LABEL, redactSecrets, Registry } from '../src';

describe('bounded labels', () => {
  it('keeps the first N distinct values and buckets the rest as __other', () => {
    const bucket = createLabelBucket(2);
    expect([bucket('A'), bucket('B'), bucket('C'), bucket('A')]).toEqual(['A', 'B', OTHER_LABEL, 'A']);
  });

  it('buckets values that are not name-like or too long', () => {
    const bucket = createLabelBucket(10);
    expect(bucket('query { users { id } }')).toBe(OTHER_LABEL);
    expect(bucket('x'.repeat(101))).toBe(OTHER_LABEL);
    expect(bucket('auth.user-registered')).toBe('auth.user-registered');
  });

  it('never lets operation names grow the series count past the cap', async () => {
    const registry = createServiceRegistry('cap-test');
    const metrics = createGraphQLMetrics(registry);
    for (let index = 0; index < MAX_OPERATION_NAMES + 50; index++) {
      metrics.record({ operation: `Op${index}`, type: 'query', seconds: 0.001, errorCodes: [] });
    }
    const requests = await registry.getSingleMetric('meridian_graphql_requests_total')!.get();
    expect(requests.values).toHaveLength(MAX_OPERATION_NAMES + 1);
    expect(requests.values.find((value) => value.labels.operation === OTHER_LABEL)?.value).toBe(50);
  });

  it('labels every series with the service', async () => {
    const registry = createServiceRegistry('svc');
    createGraphQLMetrics(registry).record({ operation: 'Me', type: 'query', seconds: 0.2, errorCodes: ['FORBIDDEN', 'FORBIDDEN'] });
    const text = await registry.metrics();
    expect(text).toContain('meridian_graphql_errors_total{operation="Me",code="FORBIDDEN",service="svc"} 2');
    expect(registry).toBeInstanceOf(Registry);
  });
});

describe('redactSecrets', () => {
  it('replaces secret properties at any depth, in arrays, whatever the letter case', () => {
    const input = { user: 'ada', list: [{ refreshToken: 'r' }, 'plain'], a: { b: { c: { d: { Password: 'p', TOTPSecret: 's' } } } } };
    expect(redactSecrets(input)).toEqual({
      user: 'ada',
      list: [{ refreshToken: '[redacted]' }, 'plain'],
      a: { b: { c: { d: { Password: '[redacted]', TOTPSecret: '[redacted]' } } } },
    });
    expect(input.list[0]).toEqual({ refreshToken: 'r' }); // the caller's object is not modified
  });

  it('returns the same object when there is nothing to redact, and leaves errors to serializers', () => {
    const clean = { operation: 'Me', nested: { durationMs: 3 } };
    expect(redactSecrets(clean)).toBe(clean);
    const err = new Error('boom');
    const at = new Date();
    const redacted = redactSecrets({ err, at, password: 'p' });
    expect(redacted.err).toBe(err);
    expect(redacted.at).toBe(at);
    expect(redacted.password).toBe('[redacted]');
  });
});
