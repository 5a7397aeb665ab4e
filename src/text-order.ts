/**
 * Code-unit order of two strings: the order every sorted output uses. Unlike localeCompare it
 * does not depend on the ICU data or the locale of the machine (the same config sorts the same
 * everywhere), and it does not page ICU's collation tables into every process that sorts.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
