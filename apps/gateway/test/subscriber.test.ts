import { GraphQLError } from 'graphql';
import { createSubscriber } from '../src/subscriptions/subscriber';

const tooSlow = () => new GraphQLError('too slow', { extensions: { code: 'SUBSCRIBER_TOO_SLOW' } });

describe('a subscriber queue', () => {
  it('delivers results in order', async () => {
    const subscriber = createSubscriber({ maxQueued: 10, onClose: () => undefined, tooSlowError: tooSlow });
    subscriber.push({ data: { n: 1 } });
    subscriber.push({ data: { n: 2 } });
    expect((await subscriber.iterator.next()).value).toEqual({ data: { n: 1 } });
    expect((await subscriber.iterator.next()).value).toEqual({ data: { n: 2 } });
  });

  it('ends a client that does not read with an explicit error instead of dropping events', async () => {
    let closed = 0;
    const subscriber = createSubscriber({ maxQueued: 3, onClose: () => closed++, tooSlowError: tooSlow });
    for (let n = 0; n < 5; n++) subscriber.push({ data: { n } });
    const first = await subscriber.iterator.next();
    expect(first.value.errors[0].extensions.code).toBe('SUBSCRIBER_TOO_SLOW');
    expect(await subscriber.iterator.next()).toEqual({ done: true, value: undefined });
    expect(closed).toBe(1);
  });

  it('writes to a socket sink once serialized, and ends a client whose socket stopped taking writes', async () => {
    const written: string[] = [];
    let unflushed = 0;
    const sink = { write: (json: Buffer) => { written.push(json.toString()); unflushed += 1; }, pending: () => unflushed };
    let serializations = 0;
    const subscriber = createSubscriber({ maxQueued: 2, onClose: () => undefined, tooSlowError: tooSlow, sink });
    const serialized = () => (serializations += 1, Buffer.from('{"data":{"n":1}}'));
    subscriber.push({ data: { n: 1 } }, serialized);
    expect(written).toEqual(['{"data":{"n":1}}']);
    unflushed = 0; // the kernel took it
    subscriber.push({ data: { n: 2 } }, () => Buffer.from('{"data":{"n":2}}'));
    subscriber.push({ data: { n: 3 } }, () => Buffer.from('{"data":{"n":3}}'));
    // Two writes not flushed: the next result is not written, the client gets one explicit error and ends.
    subscriber.push({ data: { n: 4 } }, () => Buffer.from('{"data":{"n":4}}'));
    expect(written).toEqual(['{"data":{"n":1}}', '{"data":{"n":2}}', '{"data":{"n":3}}']);
    expect(serializations).toBe(1);
    expect((await subscriber.iterator.next()).value.errors[0].extensions.code).toBe('SUBSCRIBER_TOO_SLOW');
    expect((await subscriber.iterator.next()).done).toBe(true);
    subscriber.push({ data: { n: 5 } }, () => Buffer.from('{"data":{"n":5}}'));
    expect(written).toHaveLength(3);
  });

  it('ends with the failure after nothing else, and completes after draining', async () => {
    const failing = createSubscriber({ maxQueued: 10, onClose: () => undefined, tooSlowError: tooSlow });
    failing.push({ data: { n: 1 } });
    failing.fail(new GraphQLError('gone', { extensions: { code: 'SUBGRAPH_UNAVAILABLE' } }));
    expect((await failing.iterator.next()).value.errors[0].message).toBe('gone');
    expect((await failing.iterator.next()).done).toBe(true);

    const completing = createSubscriber({ maxQueued: 10, onClose: () => undefined, tooSlowError: tooSlow });
    completing.push({ data: { n: 1 } });
    completing.complete();
    expect((await completing.iterator.next()).value).toEqual({ data: { n: 1 } });
    expect((await completing.iterator.next()).done).toBe(true);
  });

  it('wakes a waiting reader when the client unsubscribes', async () => {
    const subscriber = createSubscriber({ maxQueued: 10, onClose: () => undefined, tooSlowError: tooSlow });
    const pending = subscriber.iterator.next();
    await subscriber.iterator.return!();
    expect(await pending).toEqual({ done: true, value: undefined });
  });
});
