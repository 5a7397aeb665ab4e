/**
 * Readable log lines for a terminal: pino's JSON records rewritten as
 *   08:35:14 INFO  control-plane  config applied  version=3f2a… ms=4
 * with the level coloured, and multi-line values (diagnostics, stacks) printed below the line,
 * indented, instead of inside a JSON string full of `\n`. Pipes and files keep pino's JSON.
 */

export type LogFormat = 'pretty' | 'json';

const LEVELS: Record<number, { label: string; color: string }> = {
  10: { label: 'TRACE', color: '90' },
  20: { label: 'DEBUG', color: '90' },
  30: { label: 'INFO', color: '32' },
  40: { label: 'WARN', color: '33' },
  50: { label: 'ERROR', color: '31' },
  60: { label: 'FATAL', color: '35' },
};

/** Fields that are the line's frame (time, level, source), not its content. */
const FRAME = new Set(['level', 'time', 'hostname', 'name', 'msg', 'component', 'companion', 'scope', 'v']);

export interface PrettyOptions {
  color: boolean;
  /** Where lines go (default: process.stderr). */
  out?: { write(s: string): unknown };
}

/** A pino destination that writes each JSON record as a readable line. */
export function prettyStream(o: PrettyOptions): { write(line: string): void } {
  const out = o.out ?? process.stderr;
  return {
    write(line: string) {
      let rec: Record<string, unknown>;
      try { rec = JSON.parse(line) as Record<string, unknown>; } catch { out.write(line); return; }
      out.write(formatRecord(rec, o.color));
    },
  };
}

const paint = (on: boolean, code: string, s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

/** `HH:MM:SS LEVEL source  message  k=v …` and the multi-line values below it. */
export function formatRecord(rec: Record<string, unknown>, color: boolean): string {
  const lvl = LEVELS[Number(rec.level)] ?? { label: String(rec.level), color: '0' };
  const time = typeof rec.time === 'number' ? clock(new Date(rec.time)) : '';
  const source = [rec.component ?? rec.companion, rec.scope].filter((x) => typeof x === 'string' && x).join('/');
  const inline: string[] = [];
  const below: string[] = [];
  for (const [k, v] of Object.entries(rec)) {
    if (FRAME.has(k) || v === undefined) continue;
    const block = blockLines(v);
    if (block) { below.push(...block.map((l) => `    ${l}`)); continue; }
    inline.push(`${k}=${inlineValue(v)}`);
  }
  let s = `${paint(color, '2', time)} ${paint(color, lvl.color, lvl.label.padEnd(5))} ${source ? `${paint(color, '36', source)}  ` : ''}${String(rec.msg ?? '')}`;
  if (inline.length) s += `  ${paint(color, '2', inline.join(' '))}`;
  for (const l of below) s += `\n${l}`;
  return `${s}\n`;
}

/** Values shown on lines of their own: text with newlines, lists of text, errors with a stack. */
function blockLines(v: unknown): string[] | undefined {
  if (typeof v === 'string') return v.includes('\n') ? v.split('\n') : undefined;
  if (Array.isArray(v) && v.length && v.every((x) => typeof x === 'string')) return (v as string[]).flatMap((x) => x.split('\n'));
  if (v && typeof v === 'object' && typeof (v as { stack?: unknown }).stack === 'string') return ((v as { stack: string }).stack).split('\n');
  return undefined;
}

function inlineValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v);
}

function clock(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
