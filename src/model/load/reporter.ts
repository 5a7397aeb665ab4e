import type { z } from 'zod';
import { diag, type Diagnostic } from '../../errors.js';
import type { Origin } from '../types.js';
import { issuesToDiagnostics, stripNulls } from '../zod-diagnostics.js';
import type { YamlSource } from '../yaml-source.js';
import type { ParseMemo } from './parse-memo.js';
import { compareText } from '../../text-order.js';

/** Collects diagnostics per file and turns YAML paths into line:col at the end. */
export class Reporter {
  readonly diagnostics: Diagnostic[] = [];
  private readonly sources = new Map<string, YamlSource>();
  /** @param memo the schema outputs of the last load, reused for entities whose content is unchanged */
  constructor(readonly memo?: ParseMemo) {}
  addSource(s: YamlSource): void { this.sources.set(s.file, s); }
  report(file: string, ds: Diagnostic[]): void { for (const d of ds) this.diagnostics.push({ ...d, file }); }
  at(origin: Origin, d: Diagnostic): void { this.diagnostics.push({ ...d, file: origin.file }); }
  /** The diagnostics with their positions, sorted by file, line and column (in the order reported where those tie). */
  finish(): Diagnostic[] {
    for (const d of this.diagnostics) {
      if (d.line !== undefined || !d.file) continue;
      const src = this.sources.get(d.file);
      if (!src) continue;
      const key = d.code === 'FD_UNKNOWN_KEY' || d.code === 'FD_KONG_NOT_SERVED';
      const pos = src.locate(d.path, key);
      d.line = pos.line;
      d.col = pos.col;
    }
    return this.diagnostics.sort((a, b) => compareText((a.file ?? ''), b.file ?? '') || (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  }
  get hasErrors(): boolean { return this.diagnostics.some((d) => d.severity === 'error'); }
  /** `file:line:col` of an entity, for messages that point at another place. */
  where(origin: Origin): string {
    const pos = this.sources.get(origin.file)?.locate(origin.path);
    return pos ? `${origin.file}:${pos.line}:${pos.col}` : `${origin.file}:${origin.path.join('.')}`;
  }
}

/**
 * One entity through its zod schema (nulls removed first: `null` means Kong's default); issues
 * become diagnostics. `memo: false` for a value that is never the same twice (a whole file).
 * `source` (Found.source) is the YAML value `raw` is made of alone: the last load's data for it
 * is taken by identity, and `raw` may then be a function that makes it only when needed.
 */
export function parseWith<S extends z.ZodType>(rep: Reporter, schema: S, raw: unknown, origin: Origin, { memo = true, source }: { memo?: boolean; source?: object } = {}): z.infer<S> | undefined {
  const memoized = memo ? rep.memo : undefined;
  const place = memoized ? memoPlace(origin) : '';
  if (memoized && source) {
    const known = memoized.known(schema, source, place);
    if (known !== undefined) return known;
  }
  const input = stripNulls(typeof raw === 'function' ? (raw as () => unknown)() : raw);
  const res = memoized ? memoized.parse(schema, input, place, source) : schema.safeParse(input);
  if (res.success) return res.data;
  rep.report(origin.file, issuesToDiagnostics(schema, res.error.issues, origin.path, input));
  return undefined;
}

/** Where an entity is written, as the parse memo keys it. */
export function memoPlace(origin: Origin): string {
  return `${origin.file}\0${origin.path.join('.')}`;
}

/** A field Frontdesk does not implement: refused unless it holds Kong's default. */
export function notImplemented(rep: Reporter, origin: Origin, field: string, value: unknown, isDefault: boolean, why: string): boolean {
  if (value === undefined || isDefault) return false;
  rep.at(origin, diag('FD_FIELD_NOT_IMPLEMENTED', [...origin.path, field], `${field}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`, why));
  return true;
}
