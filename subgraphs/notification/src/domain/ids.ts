import { monotonicFactory } from 'ulid';

// Monotonic: ids made in the same millisecond still sort in creation order, which keeps
// "ORDER BY id" equal to creation order and ids usable as cursors.
const nextUlid = monotonicFactory();

/** A new ULID for a notification or a delivery. */
export function newId(): string {
  return nextUlid();
}
