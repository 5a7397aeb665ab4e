/** RE2 helpers shared by every layer: pure string functions, no I/O. */

/** `s` as an RE2 (and ECMAScript) pattern that matches it literally. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
