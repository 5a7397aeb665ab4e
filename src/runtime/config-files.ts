import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SourceText } from '../model/yaml-source.js';

/** Reads `--config`: one file, or every *.yaml / *.yml file of a folder (sorted, merged). */
export function readConfigTexts(path: string): SourceText[] {
  const st = statSync(path);
  if (!st.isDirectory()) return [{ file: path, text: readFileSync(path, 'utf8') }];
  return readdirSync(path)
    .filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('.'))
    .sort()
    .map((f) => ({ file: join(path, f), text: readFileSync(join(path, f), 'utf8') }));
}
