/** ANSI colours for a terminal, or none (not a TTY, NO_COLOR set). */
export interface Painter {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

/** Whether to colour: a TTY, unless NO_COLOR is set (no-color.org); FORCE_COLOR forces it. */
export function wantColor(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

export function paint(on: boolean): Painter {
  const c = (code: number) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { red: c(31), green: c(32), yellow: c(33), dim: c(2), bold: c(1) };
}
