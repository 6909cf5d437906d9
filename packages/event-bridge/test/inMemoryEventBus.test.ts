import { createInMemoryEventBus } from '../src/index';
import { runEventBusContract } from './eventBusContract';
import { createMemoryLogger, testRegistry } from './fixtures';

runEventBusContract('in-memory', {
  partitions: 8,
  async open() {
    const bus = createInMemoryEventBus({ registry: testRegistry, partitions: 8, logger: createMemoryLogger() });
    // One process: "another member" is another subscription on the same bus.
    return { bus, peer: async () => bus };
  },
});
