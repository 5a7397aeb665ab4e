import { readFileSync, writeFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { formatDiagnostic } from '../../errors.js';
import { convertLegacyPath } from '../../model/paths.js';
import { compileConfig } from '../compile.js';

/** Every `paths` list of a route (routes nested in services, and top-level routes). */
function routeLists(doc: Document): unknown[] {
  const out: unknown[] = [];
  const routes = (seq: unknown) => { if (isSeq(seq)) for (const r of seq.items) if (isMap(r)) out.push(r.get('paths', true)); };
  const services = doc.get('services', true);
  if (isSeq(services)) for (const s of services.items) if (isMap(s)) routes(s.get('routes', true));
  routes(doc.get('routes', true));
  return out;
}

/**
 * `frontdesk convert PATH [--output FILE]`: a Kong 1.1 / 2.1 file as 3.0, as `deck file
 * convert` does: paths holding regex characters get the "~" of a 3.0 regex path (the same rule
 * the loader applies when it reads an old file), and _format_version becomes "3.0". Comments
 * and layout are kept. The result is validated; exit 1 when it does not load.
 */
export function runConvert(path: string, output: string | undefined, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  const text = readFileSync(path, 'utf8');
  const doc = parseDocument(text);
  if (doc.errors.length) { err.write(`${path}: error: ${doc.errors[0]!.message.split('\n')[0]}\n`); return 1; }
  const from = String(doc.get('_format_version') ?? '');
  let converted = 0;
  if (from === '1.1' || from === '2.1') {
    for (const paths of routeLists(doc)) {
      if (!isSeq(paths)) continue;
      for (const p of paths.items) {
        if (!isScalar(p) || typeof p.value !== 'string') continue;
        const next = convertLegacyPath(p.value);
        if (next !== p.value) { p.value = next; converted++; }
      }
    }
    doc.set('_format_version', '3.0');
  } else if (from !== '3.0') {
    err.write(`${path}: error: _format_version ${from ? JSON.stringify(from) : 'is missing'}: convert reads 1.1, 2.1 and 3.0 files\n`);
    return 1;
  }
  const result = doc.toString({ lineWidth: 0 });
  const compiled = compileConfig([{ file: output ?? `${path} (converted)`, text: result }]);
  for (const d of compiled.diagnostics) err.write(`${formatDiagnostic(d)}\n`);
  if (!compiled.ok) return 1;
  if (output) writeFileSync(output, result);
  else out.write(result);
  err.write(`converted ${path} from _format_version ${from} to 3.0: ${converted} regex path(s) now start with "~"\n`);
  return 0;
}
