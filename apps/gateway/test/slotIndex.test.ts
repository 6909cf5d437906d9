import { createSlotIndex } from '../src/execution/executePlan';

/** The index that lets an entity fetch send each distinct representation once (ADR 0018). */
describe('representation slots', () => {
  it('gives equal flat representations one slot and tells values of different types apart', () => {
    const slots = createSlotIndex();
    const all = [
      { __typename: 'Product', upc: '1' },
      { __typename: 'Product', upc: 1 },
      { __typename: 'Product', upc: null },
      { __typename: 'Product', upc: true },
      { __typename: 'Product', upc: 'true' },
      { __typename: 'User', upc: '1' },
      { __typename: 'Product', upc: '1', price: 10 },
      { __typename: 'Product', id: '1' },
      { __typename: 'Product' },
    ];
    all.forEach((representation, index) => {
      expect(slots.get(representation)).toBeUndefined();
      slots.set(representation, index);
    });
    all.forEach((representation, index) => expect(slots.get({ ...representation })).toBe(index));
    expect(slots.get({ __typename: 'Product', upc: '2' })).toBeUndefined();
    expect(slots.get({ __typename: 'Product', upc: '1', price: 11 })).toBeUndefined();
  });

  it('keys representations with objects or lists inside by their JSON', () => {
    const slots = createSlotIndex();
    slots.set({ __typename: 'Seat', id: '7', venue: { id: 'a' } }, 0);
    slots.set({ __typename: 'Seat', id: '7', venue: { id: 'b' } }, 1);
    slots.set({ __typename: 'Seat', ids: ['7', '8'] }, 2);
    expect(slots.get({ __typename: 'Seat', id: '7', venue: { id: 'a' } })).toBe(0);
    expect(slots.get({ __typename: 'Seat', id: '7', venue: { id: 'b' } })).toBe(1);
    expect(slots.get({ __typename: 'Seat', ids: ['7', '8'] })).toBe(2);
    expect(slots.get({ __typename: 'Seat', ids: ['8', '7'] })).toBeUndefined();
  });
});
