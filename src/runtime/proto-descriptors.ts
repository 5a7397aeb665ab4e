import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import protobuf from 'protobufjs';
import descriptorExt from 'protobufjs/ext/descriptor/index.js';
import { diag, type Diagnostic, type YamlPath } from '../errors.js';
import type { GrpcGatewayConfig, ResolvedProto } from '../model/plugins/grpc-gateway.js';
import type { GatewayModel, Plugin } from '../model/types.js';
import { parseYamlSource, type SourceText, type YamlSource } from '../model/yaml-source.js';

/**
 * The grpc-gateway plugins' .proto files, read beside the YAML that names them (a relative
 * `proto` is relative to that YAML file; an absolute one is read as is), each compiled into the
 * FileDescriptorSet Envoy's grpc_json_transcoder needs: every file it imports (beside it, then
 * the googleapis protos of @grpc/grpc-js-xds, then protobufjs's google/protobuf ones), with the
 * google.api.http rules of its methods. A .proto that cannot be read or does not compile is a
 * diagnostic at the .proto's own line:col. This is the one step of compiling that reads files
 * other than the YAML, so it lives here and not in the model.
 */

const require = createRequire(import.meta.url);
const GOOGLEAPIS = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps', 'googleapis');
const PROTOBUFJS = dirname(require.resolve('protobufjs/package.json'));

const HTTP_OPTION = '(google.api.http)';

/** The descriptor types with google.api.http known (protobufjs's own descriptor types drop extensions). */
let encodingRoot: protobuf.Root | undefined;
function fileDescriptorSetType(): protobuf.Type {
  if (!encodingRoot) {
    encodingRoot = new protobuf.Root();
    encodingRoot.resolvePath = (_origin, target) => [GOOGLEAPIS, PROTOBUFJS].map((d) => join(d, target)).find(existsSync) ?? target;
    encodingRoot.loadSync('google/api/annotations.proto');
    encodingRoot.resolveAll();
  }
  return encodingRoot.lookupType('google.protobuf.FileDescriptorSet');
}

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
function camelKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [camel(k), camelKeys(x)]));
  return v;
}

interface FileJson { name?: string; package?: string; dependency?: string[]; syntax?: string }

/**
 * protobufjs writes one file per package, each marked proto3, and no imports between them. A
 * descriptor pool (Envoy's transcoder builds one, file by file, in order) needs each file to
 * import the files whose types it names and to come after them. So: every ".pkg.Type"
 * reference (field and method types) adds the file of the longest package it starts with;
 * only the files the services' packages reach are kept, dependencies first; google.protobuf's
 * (descriptor.proto is proto2) is marked proto2. The google.api.http rules travel as method
 * options, which Envoy reads with its own compiled-in extension, so google/api need not be kept.
 */
function linkFiles<F extends FileJson>(files: F[], roots: Set<string>): F[] {
  const byPackage = new Map(files.map((f) => [f.package ?? '', f]));
  const packages = [...byPackage.keys()].sort((a, b) => b.length - a.length);
  const depsOf = new Map<F, F[]>();
  for (const f of files) {
    const refs = new Set<string>();
    const visit = (v: unknown, key?: string) => {
      if (Array.isArray(v)) v.forEach((x) => visit(x, key));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { if (k !== 'options') visit(x, k); }
      else if (typeof v === 'string' && (key === 'typeName' || key === 'inputType' || key === 'outputType') && v.startsWith('.')) refs.add(v.slice(1));
    };
    visit(f);
    const deps = new Set<F>();
    for (const ref of refs) {
      const pkg = packages.find((p) => p === '' || ref.startsWith(`${p}.`));
      const dep = pkg !== undefined ? byPackage.get(pkg) : undefined;
      if (dep && dep !== f) deps.add(dep);
    }
    depsOf.set(f, [...deps]);
  }
  const out: F[] = [];
  const seen = new Set<F>();
  const add = (f: F) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const d of depsOf.get(f) ?? []) add(d);
    const deps = (depsOf.get(f) ?? []).map((d) => d.name!).sort();
    out.push({ ...f, ...(deps.length ? { dependency: deps } : {}), ...(f.package === 'google.protobuf' ? { syntax: 'proto2' } : {}) });
  };
  for (const f of files) if (roots.has(f.package ?? '')) add(f);
  return out;
}

/** protobufjs's "illegal token 'x' (file, line 3)" → line, and the column of the token on that line. */
function position(message: string, text: string): { line: number; col: number } {
  const line = Number(/line (\d+)/.exec(message)?.[1] ?? 1);
  const token = /'([^']+)'/.exec(message)?.[1];
  const col = token ? (text.split('\n')[line - 1] ?? '').indexOf(token) + 1 : 0;
  return { line, col: col > 0 ? col : 1 };
}

export type ProtoResult = { ok: true; resolved: ResolvedProto } | { ok: false; file: string; line: number; col: number; message: string };

/** One .proto (absolute path) → its descriptor set, or where it fails. */
export function compileProto(file: string): ProtoResult {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    if (isAbsolute(target)) return target;
    const dirs = [origin ? dirname(origin) : dirname(file), dirname(file), GOOGLEAPIS, PROTOBUFJS];
    return dirs.map((d) => join(d, target)).find(existsSync) ?? join(dirname(file), target);
  };
  try {
    if (!existsSync(file)) return { ok: false, file, line: 0, col: 0, message: 'no such file' };
    root.loadSync(file, { keepCase: true });
    root.resolveAll();
    const services: string[] = [];
    const rules = new Map<string, unknown>();
    const walk = (ns: protobuf.NamespaceBase) => {
      for (const o of ns.nestedArray) {
        if (o instanceof protobuf.Service) {
          if (o.filename === file) services.push(o.fullName.slice(1));
          for (const m of o.methodsArray) {
            const rule = m.parsedOptions?.find((po: Record<string, unknown>) => HTTP_OPTION in po)?.[HTTP_OPTION];
            if (rule) rules.set(`${o.fullName}.${m.name}`, rule);
          }
        } else if (o instanceof protobuf.Namespace) walk(o);
      }
    };
    walk(root);
    if (!services.length) return { ok: false, file, line: 1, col: 1, message: 'it declares no service' };
    const set = (root as unknown as { toDescriptor(syntax: string): protobuf.Message }).toDescriptor('proto3');
    const json = descriptorExt.FileDescriptorSet.toObject(set, { defaults: false }) as {
      file?: { package?: string; service?: { name: string; method?: { name: string; options?: Record<string, unknown> }[] }[] }[];
    };
    for (const f of json.file ?? []) {
      for (const s of f.service ?? []) {
        for (const m of s.method ?? []) {
          const rule = rules.get(`.${f.package ? `${f.package}.` : ''}${s.name}.${m.name}`);
          if (rule) m.options = { ...(m.options ?? {}), '.google.api.http': camelKeys(rule) };
        }
      }
    }
    json.file = linkFiles(json.file ?? [], new Set(services.map((n) => n.slice(0, Math.max(0, n.lastIndexOf('.'))))));
    const type = fileDescriptorSetType();
    const bytes = type.encode(type.fromObject(json)).finish();
    return { ok: true, resolved: { descriptorSetBase64: Buffer.from(bytes).toString('base64'), services: services.sort() } };
  } catch (e) {
    const message = (e as Error).message;
    const missing = /ENOENT[^']*'([^']+)'/.exec(message)?.[1];
    if (missing) return importNotFound(file, missing);
    const inFile = /\(([^,()]+\.proto), line \d+\)/.exec(message)?.[1];
    if (!inFile) {
      // A resolution error ("no such type: X") names no position: the first place the name is written.
      const name = /no such (?:type|Type|field|method)[^:]*: ?'?([\w.]+)'?/.exec(message)?.[1] ?? /'([\w.]+)'/.exec(message)?.[1];
      for (const f of [file, ...root.files.filter((x) => x !== file)]) {
        const at = name ? firstUse(f, name) : undefined;
        if (at) return { ok: false, file: f, ...at, message };
      }
      return { ok: false, file, line: 1, col: 1, message };
    }
    let text = '';
    try { text = readFileSync(inFile, 'utf8'); } catch { /* unreadable: its position is 1:1 */ }
    const { line, col } = position(message, text);
    return { ok: false, file: inFile, line, col, message: message.replace(/\s*\([^()]*line \d+\)$/, '') };
  }
}

/** The line:col where `name` is first written as a whole word in `file`, outside comments. */
function firstUse(file: string, name: string): { line: number; col: number } | undefined {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch { return undefined; }
  const word = new RegExp(`(^|[^\\w.])${name.replace(/\./g, '\\.')}(?![\\w.])`);
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const code = lines[i]!.replace(/\/\/.*$/, '');
    const m = word.exec(code);
    if (m) return { line: i + 1, col: m.index + m[1]!.length + 1 };
  }
  return undefined;
}

/** An import that resolves to no file: at the import's line:col in the file that names it. */
function importNotFound(file: string, missing: string): ProtoResult {
  let text = '';
  try { text = readFileSync(file, 'utf8'); } catch { /* unreadable: 1:1 */ }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /import\s+(?:public\s+|weak\s+)?"([^"]+)"/.exec(lines[i]!);
    if (m && missing.endsWith(m[1]!)) {
      return { ok: false, file, line: i + 1, col: lines[i]!.indexOf(`"${m[1]}"`) + 1, message: `import "${m[1]}" not found beside the file, nor among the googleapis protos` };
    }
  }
  return { ok: false, file, line: 1, col: 1, message: `${missing} not found` };
}

/**
 * Every grpc-gateway plugin of `model` with its proto compiled into `config.resolved`, or the
 * diagnostics of those that fail (then no model): a missing file at the YAML's `proto`
 * (`texts` give its line:col), a .proto that does not compile at the .proto's own line:col.
 */
export function resolveProtos(model: GatewayModel, texts: readonly SourceText[]): { model?: GatewayModel; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const done = new Map<string, ProtoResult>();
  const sources = new Map<string, YamlSource>();
  const locate = (file: string, path: YamlPath) => {
    if (!sources.has(file)) {
      const text = texts.find((t) => t.file === file);
      const parsed = text ? parseYamlSource(text).source : undefined;
      if (parsed) sources.set(file, parsed);
    }
    return sources.get(file)?.locate(path) ?? { line: 1, col: 1 };
  };
  const plugins: Plugin[] = model.plugins.map((p) => {
    if (p.name !== 'grpc-gateway') return p;
    const config = p.config as GrpcGatewayConfig;
    const file = isAbsolute(config.proto) ? config.proto : resolve(dirname(p.origin.file), config.proto);
    let r = done.get(file);
    if (!r) {
      r = compileProto(file);
      done.set(file, r);
      if (!r.ok) {
        const path = [...p.origin.path, 'config', 'proto'];
        diagnostics.push(r.line
          ? { ...diag('FD_PROTO_INVALID', path, r.message), file: r.file, line: r.line, col: r.col }
          : { ...diag('FD_PROTO_NOT_FOUND', path, config.proto, r.message), file: p.origin.file, ...locate(p.origin.file, path) });
      }
    }
    return r.ok ? { ...p, config: { ...config, resolved: r.resolved } } : p;
  });
  return diagnostics.length ? { diagnostics } : { model: { ...model, plugins }, diagnostics };
}
