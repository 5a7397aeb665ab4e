/**
 * Whether two values of the model or the IR have the same content, as translate-memo.ts's
 * contentKey would spell them, only stricter (a miss costs a rebuild, a wrong hit a wrong
 * resource): the same keys in the same order, primitives and bigints the same value (Object.is: NaN is NaN, 0 is not -0), Maps and Sets by their entries in order, byte
 * arrays by their bytes, RegExps by their text, Dates by their time. A function is equal to
 * nothing (it has no content to compare), and so is any other object with a class of its own.
 */
export function sameContent(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return typeof a !== 'function';
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      const x: unknown = a[i];
      const y: unknown = b[i];
      if (Object.is(x, y) ? typeof x === 'function' : !sameContent(x, y)) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(a) as unknown;
  if (proto !== Object.getPrototypeOf(b)) return false;
  if (proto === Object.prototype || proto === null) {
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    const keys = Object.keys(x);
    const others = Object.keys(y);
    if (keys.length !== others.length) return false;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k !== others[i]) return false;
      const u = x[k];
      const v = y[k];
      if (Object.is(u, v) ? typeof u === 'function' : !sameContent(u, v)) return false;
    }
    return true;
  }
  if (a instanceof Map || a instanceof Set) {
    const x = a as Map<unknown, unknown> | Set<unknown>;
    const y = b as typeof x;
    if (x.size !== y.size) return false;
    const ix = x.entries();
    const iy = y.entries();
    for (let ex = ix.next(), ey = iy.next(); !ex.done && !ey.done; ex = ix.next(), ey = iy.next()) {
      if (!sameContent(ex.value[0], ey.value[0]) || !sameContent(ex.value[1], ey.value[1])) return false;
    }
    return true;
  }
  if (a instanceof Uint8Array) return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b as Uint8Array);
  if (a instanceof RegExp) return String(a) === String(b);
  if (a instanceof Date) return a.getTime() === (b as Date).getTime();
  return false;
}

