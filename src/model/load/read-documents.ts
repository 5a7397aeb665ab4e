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
  /** The top level as written. */
  raw: Record<string, unknown>;
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

/**
 * The top level: its own errors (a missing or unknown _format_version, an unknown key) are
 * reported, and the entity lists that are lists still load, so that one run reports every
 * error of the file rather than the top level's first.
 */
function readTopLevel(rep: Reporter, file: string, data: unknown): Document | undefined {
  const root: Origin = { file, path: [] };
  if (data === null || data === undefined) { rep.at(root, diag('FD_CONFIG_EMPTY', [])); return undefined; }
  if (!isObject(data)) { rep.at(root, diag('FD_CONFIG_NOT_MAPPING', [])); return undefined; }
  if (data._format_version === undefined) rep.at(root, diag('FD_FORMAT_MISSING', []));
  const top = parseWith(rep, topLevelSchema, { _format_version: '3.0', ...data }, root, { memo: false }) ?? salvage(data);
  const version = data._format_version ?? '3.0';
  if (version === '1.1' || version === '2.1') return { file, raw: data, top, legacy: version };
  if (typeof version === 'string' && version !== '3.0') rep.at({ file, path: ['_format_version'] }, diag('FD_FORMAT_VERSION', ['_format_version'], JSON.stringify(data._format_version)));
  return { file, raw: data, top };
}

/** A top level its schema refused (errors reported): its entity lists that are lists, the rest empty. */
function salvage(data: Record<string, unknown>): z.infer<typeof topLevelSchema> {
  const lists = Object.fromEntries(ENTITY_LISTS.map((k) => [k, Array.isArray(data[k]) ? data[k] : []]));
  return { _format_version: '3.0', _transform: true, ...lists } as z.infer<typeof topLevelSchema>;
}

const ENTITY_LISTS = Object.keys(topLevelSchema.shape).filter((k) => !k.startsWith('_') && k !== 'tags');

/** The files written in format 1.1 or 2.1, with their version. */
export function legacyFiles(documents: readonly Document[]): Map<string, string> {
  const legacy = new Map<string, string>();
  for (const d of documents) if (d.legacy) legacy.set(d.file, d.legacy);
  return legacy;
}
