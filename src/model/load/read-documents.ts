import type { z } from 'zod';
import { diag } from '../../errors.js';
import { topLevelSchema } from '../entities.js';
import type { Origin } from '../types.js';
import { parseYamlSource, type SourceText } from '../yaml-source.js';
import { isObject } from './flat-config.js';
import { parseWith, type Reporter } from './reporter.js';

/** One file whose top level checked out: its entity lists, and its format version when older than 3.0. */
export interface Document {
  file: string;
  top: z.infer<typeof topLevelSchema>;
  legacy?: '1.1' | '2.1';
}

/** Parses each YAML text; a file that is not a mapping with `_format_version` 1.1, 2.1 or 3.0 is reported and left out. */
export function readDocuments(rep: Reporter, texts: SourceText[]): Document[] {
  const documents: Document[] = [];
  for (const text of texts) {
    const parsed = parseYamlSource(text);
    rep.report(text.file, parsed.diagnostics);
    if (!parsed.source) continue;
    rep.addSource(parsed.source);
    const document = readTopLevel(rep, text.file, parsed.source.data);
    if (document) documents.push(document);
  }
  return documents;
}

function readTopLevel(rep: Reporter, file: string, data: unknown): Document | undefined {
  const root: Origin = { file, path: [] };
  if (data === null || data === undefined) { rep.at(root, diag('FD_CONFIG_EMPTY', [])); return undefined; }
  if (!isObject(data)) { rep.at(root, diag('FD_CONFIG_NOT_MAPPING', [])); return undefined; }
  if (data._format_version === undefined) { rep.at(root, diag('FD_FORMAT_MISSING', [])); return undefined; }
  const top = parseWith(rep, topLevelSchema, data, root);
  if (!top) return undefined;
  const version = String(top._format_version);
  if (version === '1.1' || version === '2.1') return { file, top, legacy: version };
  if (version === '3.0') return { file, top };
  rep.at({ file, path: ['_format_version'] }, diag('FD_FORMAT_VERSION', ['_format_version'], JSON.stringify(top._format_version)));
  return undefined;
}

/** The files written in format 1.1 or 2.1, with their version. */
export function legacyFiles(documents: readonly Document[]): Map<string, string> {
  const legacy = new Map<string, string>();
  for (const d of documents) if (d.legacy) legacy.set(d.file, d.legacy);
  return legacy;
}
