/**
 * Freezes plain objects and arrays, deeply (other objects are left as they are): for values
 * shared between loads (a file's unchanged chunks, the parse memo's schema outputs), so that code
 * changing one in place fails loudly instead of changing another load's.
 */
export function deepFreeze<T>(v: T): T {
  if (Array.isArray(v)) { for (const x of v) deepFreeze(x); Object.freeze(v); }
  else if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
