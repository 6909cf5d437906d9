const hasOwnProperty = Object.prototype.hasOwnProperty;

function isPlainValueObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Merges `source` (data a subgraph returned) into `target` (the response being assembled), with
 * the same outcome as the merge of Apollo's executor: objects merge key by key, lists of equal
 * length merge element by element, anything else is replaced; `undefined` values are ignored.
 * A key that `target` only inherits (e.g. `constructor` on a plain object) becomes an own key.
 */
export function deepMerge(target: any, source: any): any {
  if (source === undefined || source === null) return target;
  // for..in with an own-property check visits what Object.keys lists, without allocating its array.
  for (const key in source) {
    if (!hasOwnProperty.call(source, key)) continue;
    const value = source[key];
    if (value === undefined) continue;
    if (!hasOwnProperty.call(target, key) && key in target) {
      Object.defineProperty(target, key, { configurable: true, enumerable: true, value: undefined, writable: true });
    }
    const existing = target[key];
    if (existing && isPlainValueObject(value)) {
      deepMerge(existing, value);
    } else if (Array.isArray(value) && Array.isArray(existing) && value.length === existing.length) {
      for (let index = 0; index < value.length; index++) {
        const item = value[index];
        const current = existing[index];
        if (isPlainValueObject(current) && isPlainValueObject(item)) deepMerge(current, item);
        else existing[index] = item;
      }
    } else {
      target[key] = value;
    }
  }
  return target;
}
