import protobuf from 'protobufjs';
import { RE2JS } from 're2js';
import type { Json } from '../../json.js';
import { typeForUrl } from '../proto-registry.js';
import { EXTRA_CHECKS } from './envoy-checks.js';

/**
 * The constraints Envoy enforces on a resource before it accepts it: the protoc-gen-validate
 * rules written as `(validate.rules)` / `(validate.required)` options in Envoy's .proto files
 * (protobufjs keeps them in each field's `parsedOptions`), applied generically to a resource
 * in proto3 JSON, plus the checks Envoy makes beyond them (envoy-checks.ts). Envoy runs the
 * generated validators on every resource it receives and NACKs the whole update on the first
 * failure; this walker reports every failure, each with the field path inside the resource.
 */

export interface Violation {
  /** Field path inside the resource, e.g. `virtual_hosts[0].routes[3].match.path`. */
  field: string;
  /** What Envoy would say, close to its `reason` text. */
  reason: string;
  /** Envoy accepts it, but no request could ever match it (envoy-checks.ts). */
  neverMatches?: true;
}

type Obj = { [k: string]: Json };
type Rules = { [k: string]: unknown };

const WRAPPERS = new Set([
  'google.protobuf.DoubleValue', 'google.protobuf.FloatValue', 'google.protobuf.Int64Value',
  'google.protobuf.UInt64Value', 'google.protobuf.Int32Value', 'google.protobuf.UInt32Value',
  'google.protobuf.BoolValue', 'google.protobuf.StringValue', 'google.protobuf.BytesValue',
]);
/** Types whose proto3 JSON is not an object of their fields: checked through their field's rules only. */
const OPAQUE = new Set(['google.protobuf.Struct', 'google.protobuf.Value', 'google.protobuf.ListValue', 'google.protobuf.Timestamp', 'google.protobuf.Empty', 'google.protobuf.FieldMask']);

const fullNames = new WeakMap<protobuf.ReflectionObject, string>();
function nameOf(t: protobuf.ReflectionObject): string {
  let n = fullNames.get(t);
  if (n === undefined) fullNames.set(t, (n = t.fullName.replace(/^\./, '')));
  return n;
}

/** A field's `(validate.rules)`, merged from protobufjs' parsed options (cached per field). */
const rulesCache = new WeakMap<protobuf.Field, Rules | null>();
function rulesOf(f: protobuf.Field): Rules | undefined {
  let r = rulesCache.get(f);
  if (r === undefined) {
    r = null;
    for (const o of (f.parsedOptions ?? []) as Rules[]) if (o['(validate.rules)']) r = { ...(r ?? {}), ...(o['(validate.rules)'] as Rules) };
    rulesCache.set(f, r);
  }
  return r ?? undefined;
}

function oneofRequired(o: protobuf.OneOf): boolean {
  return (o.options?.['(validate.required)'] as boolean | undefined) === true;
}

function messageDisabled(t: protobuf.Type): boolean {
  return t.options?.['(validate.disabled)'] === true || t.options?.['(validate.ignored)'] === true;
}

/** Every violation in `json`, a message of type `type` in proto3 JSON: what Envoy refuses first, then what could never match. */
export function validateMessage(type: protobuf.Type, json: Json): Violation[] {
  const out: Violation[] = [];
  walkMessage(type, json, [], out);
  return [...out.filter((v) => !v.neverMatches), ...out.filter((v) => v.neverMatches)];
}

/** Resource given by its type URL; an unknown type has nothing to check. */
export function validateResource(typeUrl: string, json: Json): Violation[] {
  const type = typeForUrl(typeUrl);
  return type ? validateMessage(type, json) : [];
}

/** The field path being walked, kept as a stack and formatted only when a violation is reported. */
type At = (string | number)[];
function fmt(at: At, last?: string | number): string {
  let s = '';
  for (const p of last === undefined ? at : [...at, last]) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s;
}
function join(at: At, name: string): string {
  return fmt(at, name);
}

/** What a type needs checked, worked out once per type: fields with rules or a message to descend into. */
interface Plan {
  skip: boolean;
  requiredOneofs: protobuf.OneOf[];
  fields: { f: protobuf.Field; rules?: Rules; descend?: protobuf.Type }[];
  extra?: (m: Obj) => ReturnType<(typeof EXTRA_CHECKS)[string]>;
}
const plans = new WeakMap<protobuf.Type, Plan>();
function planOf(type: protobuf.Type): Plan {
  let plan = plans.get(type);
  if (plan) return plan;
  const name = nameOf(type);
  plan = {
    skip: OPAQUE.has(name) || WRAPPERS.has(name) || name === 'google.protobuf.Duration' || messageDisabled(type),
    requiredOneofs: type.oneofsArray.filter(oneofRequired),
    fields: [],
    extra: EXTRA_CHECKS[name],
  };
  for (const f of type.fieldsArray) {
    const rules = rulesOf(f);
    const descend = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
    if (rules || descend) plan.fields.push({ f, ...(rules ? { rules } : {}), ...(descend ? { descend } : {}) });
  }
  plans.set(type, plan);
  return plan;
}

function walkMessage(type: protobuf.Type, json: Json, at: At, out: Violation[]): void {
  if (nameOf(type) === 'google.protobuf.Any') return walkAny(json, at, out);
  const plan = planOf(type);
  if (plan.skip) return;
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return;
  const obj = json as Obj;
  for (const o of plan.requiredOneofs) {
    if (!o.fieldsArray.some((f) => obj[f.name] !== undefined && obj[f.name] !== null)) {
      out.push({ field: join(at, o.name), reason: `value is required (one of ${o.fieldsArray.map((f) => f.name).join(', ')})` });
    }
  }
  for (const { f, rules, descend } of plan.fields) {
    const v = obj[f.name];
    const present = v !== undefined && v !== null;
    // A field of a oneof (proto3 `optional` included) is checked only when it is the one set.
    if (!present && (f.partOf || !rules)) continue;
    at.push(f.name);
    if (rules) checkField(f, rules, present ? v : undefined, at, out);
    if (present && descend) {
      if (f.map) {
        for (const [k, x] of Object.entries(v as Obj)) { at.push(k); walkMessage(descend, x, at, out); at.pop(); }
      } else if (f.repeated) {
        if (Array.isArray(v)) v.forEach((x, i) => { at.push(i); walkMessage(descend, x, at, out); at.pop(); });
      } else {
        walkMessage(descend, v, at, out);
      }
    }
    at.pop();
  }
  if (plan.extra) for (const v of plan.extra(obj)) out.push({ ...v, field: join(at, v.field) });
}

function walkAny(json: Json, at: At, out: Violation[]): void {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return;
  const url = (json as Obj)['@type'];
  if (typeof url !== 'string') return;
  const t = typeForUrl(url);
  if (!t) return;
  const name = nameOf(t);
  // Well-known types inside an Any carry their JSON under "value".
  if (WRAPPERS.has(name) || OPAQUE.has(name) || name === 'google.protobuf.Duration') return;
  const { '@type': _, ...fields } = json as Obj;
  walkMessage(t, fields, at, out);
}

function checkField(f: protobuf.Field, rules: Rules, v: Json | undefined, at: At, out: Violation[]): void {
  const fail = (reason: string) => out.push({ field: fmt(at), reason });
  if (f.map) {
    const r = rules.map as Rules | undefined;
    if (!r) return;
    const n = v ? Object.keys(v as Obj).length : 0;
    if (r.min_pairs !== undefined && n < Number(r.min_pairs)) fail(`value must contain at least ${String(r.min_pairs)} pair(s)`);
    if (r.max_pairs !== undefined && n > Number(r.max_pairs)) fail(`value must contain no more than ${String(r.max_pairs)} pair(s)`);
    if (v) for (const [k, x] of Object.entries(v as Obj)) {
      if (r.keys) checkValue(f, r.keys as Rules, k, [...at, k], out, true);
      if (r.values) checkValue(f, r.values as Rules, x, [...at, k], out);
    }
    return;
  }
  if (f.repeated) {
    const r = rules.repeated as Rules | undefined;
    if (!r) return;
    const items = Array.isArray(v) ? v : [];
    if (r.min_items !== undefined && items.length < Number(r.min_items)) fail(`value must contain at least ${String(r.min_items)} item(s)`);
    if (r.max_items !== undefined && items.length > Number(r.max_items)) fail(`value must contain no more than ${String(r.max_items)} item(s)`);
    if (r.unique === true && new Set(items.map((x) => JSON.stringify(x))).size !== items.length) fail('repeated value must contain unique items');
    if (r.items) items.forEach((x, i) => { at.push(i); checkValue(f, r.items as Rules, x, at, out); at.pop(); });
    return;
  }
  checkValue(f, rules, v, at, out);
}

const NUMERIC = ['uint32', 'uint64', 'int32', 'int64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64', 'double', 'float'];

/** One value against its rules (a field's own, or a repeated field's `items`, a map's `keys`/`values`). */
function checkValue(f: protobuf.Field, rules: Rules, v: Json | undefined, at: At, out: Violation[], isMapKey = false): void {
  const fail = (reason: string): void => { out.push({ field: fmt(at), reason }); };
  const message = rules.message as Rules | undefined;
  if (message?.required === true && v === undefined) fail('value is required');
  const typeName = !isMapKey && f.resolvedType ? nameOf(f.resolvedType) : undefined;
  // A wrapper's bare value, or the scalar itself; an unset proto3 scalar is its default value.
  const scalar = v === undefined && !typeName && !f.partOf ? defaultOf(isMapKey && f instanceof protobuf.MapField ? f.keyType : f.type) : v;
  if (typeName && !WRAPPERS.has(typeName) && typeName !== 'google.protobuf.Duration' && !(f.resolvedType instanceof protobuf.Enum)) {
    const anyRules = rules.any as Rules | undefined;
    if (anyRules?.required === true && v === undefined) fail('value is required');
    return;
  }
  if (typeName === 'google.protobuf.Duration') {
    const r = rules.duration as Rules | undefined;
    if (!r) return;
    if (v === undefined) { if (r.required === true) fail('value is required'); return; }
    const ns = durationNanos(v);
    if (ns === undefined) return fail('value is not a duration');
    const bound = (k: string) => (r[k] === undefined ? undefined : durationNanos(r[k] as Json));
    const gt = bound('gt'); const gte = bound('gte'); const lt = bound('lt'); const lte = bound('lte');
    if (gt !== undefined && !(ns > gt)) fail(`value must be greater than ${fmtNs(gt)}`);
    if (gte !== undefined && !(ns >= gte)) fail(`value must be greater than or equal to ${fmtNs(gte)}`);
    if (lt !== undefined && !(ns < lt)) fail(`value must be less than ${fmtNs(lt)}`);
    if (lte !== undefined && !(ns <= lte)) fail(`value must be less than or equal to ${fmtNs(lte)}`);
    return;
  }
  if (v === undefined && typeName) return; // an unset wrapper: its rules apply when set
  if (f.resolvedType instanceof protobuf.Enum && !isMapKey) {
    const r = rules.enum as Rules | undefined;
    if (!r) return;
    const values = f.resolvedType.values;
    const num = typeof scalar === 'string' ? values[scalar] : scalar === undefined ? 0 : Number(scalar);
    if (r.defined_only === true && (num === undefined || !Object.values(values).includes(num))) fail('value must be one of the defined enum values');
    if (Array.isArray(r.in) && num !== undefined && !(r.in as number[]).includes(num)) fail(`value must be in list [${(r.in as number[]).join(', ')}]`);
    if (Array.isArray(r.not_in) && num !== undefined && (r.not_in as number[]).includes(num)) fail(`value must not be in list [${(r.not_in as number[]).join(', ')}]`);
    return;
  }
  const s = rules.string as Rules | undefined;
  if (s && typeof (scalar ?? '') === 'string') return checkString(s, (scalar ?? '') as string, fail);
  const b = rules.bytes as Rules | undefined;
  if (b && typeof (scalar ?? '') === 'string') {
    const len = Buffer.from((scalar ?? '') as string, 'base64').length;
    if (b.min_len !== undefined && len < Number(b.min_len)) fail(`value length must be at least ${String(b.min_len)} bytes`);
    if (b.max_len !== undefined && len > Number(b.max_len)) fail(`value length must be at most ${String(b.max_len)} bytes`);
    return;
  }
  for (const k of NUMERIC) {
    const r = rules[k] as Rules | undefined;
    if (!r) continue;
    if (r.ignore_empty === true && (scalar === undefined || Number(scalar) === 0)) return;
    const n = Number(scalar ?? 0);
    if (r.const !== undefined && n !== Number(r.const)) fail(`value must equal ${String(r.const)}`);
    const gt = r.gt === undefined ? undefined : Number(r.gt);
    const gte = r.gte === undefined ? undefined : Number(r.gte);
    const lt = r.lt === undefined ? undefined : Number(r.lt);
    const lte = r.lte === undefined ? undefined : Number(r.lte);
    const low = gt !== undefined ? n > gt : gte !== undefined ? n >= gte : true;
    const high = lt !== undefined ? n < lt : lte !== undefined ? n <= lte : true;
    if (!low || !high) {
      const parts = [gt !== undefined ? `greater than ${gt}` : gte !== undefined ? `greater than or equal to ${gte}` : '', lt !== undefined ? `less than ${lt}` : lte !== undefined ? `less than or equal to ${lte}` : ''].filter(Boolean);
      fail(`value must be ${parts.join(' and ')}`);
    }
    if (Array.isArray(r.in) && !(r.in as unknown[]).map(Number).includes(n)) fail(`value must be in list [${(r.in as unknown[]).join(', ')}]`);
    if (Array.isArray(r.not_in) && (r.not_in as unknown[]).map(Number).includes(n)) fail(`value must not be in list [${(r.not_in as unknown[]).join(', ')}]`);
    return;
  }
}

/**
 * PGV's string rules. Lengths count code points (`len`, `min_len`, `max_len`) or UTF-8 bytes
 * (`*_bytes`); `pattern` is RE2; `well_known_regex` HTTP_HEADER_NAME / HTTP_HEADER_VALUE
 * follow RFC 7230 when strict (the default) and refuse only NUL, CR and LF when not.
 */
function checkString(r: Rules, s: string, fail: (reason: string) => void): void {
  if (r.ignore_empty === true && s === '') return;
  const chars = [...s].length;
  const bytes = Buffer.byteLength(s, 'utf8');
  if (r.const !== undefined && s !== r.const) fail(`value must equal ${JSON.stringify(r.const)}`);
  if (r.len !== undefined && chars !== Number(r.len)) fail(`value length must be ${String(r.len)} runes`);
  if (r.min_len !== undefined && chars < Number(r.min_len)) fail(`value length must be at least ${String(r.min_len)} runes`);
  if (r.max_len !== undefined && chars > Number(r.max_len)) fail(`value length must be at most ${String(r.max_len)} runes`);
  if (r.min_bytes !== undefined && bytes < Number(r.min_bytes)) fail(`value length must be at least ${String(r.min_bytes)} bytes`);
  if (r.max_bytes !== undefined && bytes > Number(r.max_bytes)) fail(`value length must be at most ${String(r.max_bytes)} bytes`);
  if (typeof r.prefix === 'string' && !s.startsWith(r.prefix)) fail(`value does not have prefix ${JSON.stringify(r.prefix)}`);
  if (typeof r.suffix === 'string' && !s.endsWith(r.suffix)) fail(`value does not have suffix ${JSON.stringify(r.suffix)}`);
  if (typeof r.contains === 'string' && !s.includes(r.contains)) fail(`value does not contain substring ${JSON.stringify(r.contains)}`);
  if (typeof r.not_contains === 'string' && s.includes(r.not_contains)) fail(`value contains substring ${JSON.stringify(r.not_contains)}`);
  if (Array.isArray(r.in) && !(r.in as string[]).includes(s)) fail(`value must be in list [${(r.in as string[]).join(', ')}]`);
  if (Array.isArray(r.not_in) && (r.not_in as string[]).includes(s)) fail(`value must not be in list [${(r.not_in as string[]).join(', ')}]`);
  if (typeof r.pattern === 'string' && !compiled(r.pattern).matcher(s).find()) fail(`value does not match regex pattern ${JSON.stringify(r.pattern)}`);
  const strict = r.strict !== false;
  if (r.well_known_regex === 'HTTP_HEADER_NAME' || r.well_known_regex === 1) {
    if (!(strict ? HEADER_NAME_STRICT : NO_NUL_CR_LF).test(s)) fail('value does not match regex pattern for HTTP header name');
  }
  if (r.well_known_regex === 'HTTP_HEADER_VALUE' || r.well_known_regex === 2) {
    if (!(strict ? HEADER_VALUE_STRICT : NO_NUL_CR_LF).test(s)) fail('value does not match regex pattern for HTTP header value');
  }
}

// protoc-gen-validate's well-known regexes (validate/validate.proto).
// eslint-disable-next-line no-control-regex
const HEADER_NAME_STRICT = /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/;
// eslint-disable-next-line no-control-regex
const HEADER_VALUE_STRICT = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;
// eslint-disable-next-line no-control-regex
const NO_NUL_CR_LF = /^[^\u0000\u000A\u000D]*$/;

const patterns = new Map<string, RE2JS>();
function compiled(p: string): RE2JS {
  let re = patterns.get(p);
  if (!re) patterns.set(p, (re = RE2JS.compile(p)));
  return re;
}

function defaultOf(type: string): Json | undefined {
  if (type === 'string' || type === 'bytes') return '';
  if (type === 'bool') return false;
  if (NUMERIC.includes(type)) return 0;
  return undefined;
}

/** A Duration in proto3 JSON (`"1.5s"`) or as `{seconds, nanos}` (PGV's bounds) → nanoseconds. */
function durationNanos(v: Json): number | undefined {
  if (typeof v === 'string') {
    const m = /^(-?\d+)(?:\.(\d{1,9}))?s$/.exec(v);
    if (!m) return undefined;
    const sign = v.startsWith('-') ? -1 : 1;
    return Number(m[1]) * 1e9 + sign * Number((m[2] ?? '').padEnd(9, '0') || 0);
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Obj;
    return Number(o.seconds ?? 0) * 1e9 + Number(o.nanos ?? 0);
  }
  return undefined;
}

function fmtNs(ns: number): string {
  return `${ns / 1e9}s`;
}
