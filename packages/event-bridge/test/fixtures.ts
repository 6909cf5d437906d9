import { z } from 'zod';
import { createEnvelope, createEventRegistry, defineEvent, type EnvelopeOf } from '../src/index';

/** A small catalogue for the bridge's own tests (the bridge does not know the domain events). */
export const orderPlaced = defineEvent({
  type: 'shop.order-placed',
  version: 1,
  source: 'shop',
  schema: z.object({ orderId: z.string().min(1), seq: z.number().int(), note: z.string().optional() }),
  aggregateId: (payload) => payload.orderId,
});
export const orderShipped = defineEvent({
  type: 'shop.order-shipped',
  version: 1,
  source: 'shop',
  schema: z.object({ orderId: z.string().min(1) }),
  aggregateId: (payload) => payload.orderId,
});
export const noteAdded = defineEvent({
  type: 'notes.note-added',
  version: 1,
  source: 'notes',
  schema: z.object({ noteId: z.string().min(1), text: z.string() }),
  aggregateId: (payload) => payload.noteId,
});

export const testRegistry = createEventRegistry([orderPlaced, orderShipped, noteAdded]);
export type TestEvent = EnvelopeOf<typeof orderPlaced | typeof orderShipped | typeof noteAdded>;

export const placed = (orderId: string, seq: number, note?: string) =>
  createEnvelope(orderPlaced, { orderId, seq, ...(note !== undefined ? { note } : {}) });
export const shipped = (orderId: string) => createEnvelope(orderShipped, { orderId });
export const note = (noteId: string, text: string) => createEnvelope(noteAdded, { noteId, text });

/** Polls until `check` passes (or throws its last error after the deadline): no fixed sleeps. */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 10_000, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}

/** A logger that keeps quiet (expected failures are part of the tests) but remembers. */
export function createMemoryLogger() {
  const lines: { level: string; message: string; details: Record<string, unknown> }[] = [];
  return {
    lines,
    warn: (details: Record<string, unknown>, message: string) => void lines.push({ level: 'warn', message, details }),
    error: (details: Record<string, unknown>, message: string) => void lines.push({ level: 'error', message, details }),
  };
}

let counter = 0;
/** Unique name per call, so tests in one file never share groups or aggregates. */
export function unique(name: string): string {
  counter++;
  return `${name}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 7)}`;
}
