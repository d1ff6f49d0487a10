/**
 * Structural equality of plain data (what records and resolved views are made of), so a store
 * can keep handing out the object it already gave when a recomputation yields the same content:
 * `useSyncExternalStore` compares snapshots with `Object.is`, and memoized components compare
 * props the same way.
 * @module
 */

/**
 * Whether two values hold the same plain data: primitives by `Object.is`, arrays element by
 * element, `Map`s and `Set`s entry by entry, plain objects key by key (key order ignored).
 * Any other object (a class instance, a function) is equal only to itself.
 */
export function sameData(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameData(x, b[i]))
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false
    for (const [key, value] of a) if (!b.has(key) || !sameData(value, b.get(key))) return false
    return true
  }
  if (a instanceof Set) {
    if (!(b instanceof Set) || a.size !== b.size) return false
    for (const value of a) if (!b.has(value)) return false
    return true
  }
  if (!isPlain(a) || !isPlain(b) || Array.isArray(b)) return false
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  const other = b as Record<string, unknown>
  return keys.every((key) => Object.prototype.hasOwnProperty.call(other, key) && sameData((a as Record<string, unknown>)[key], other[key]))
}

function isPlain(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}
