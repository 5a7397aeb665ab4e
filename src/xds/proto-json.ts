import protobuf from 'protobufjs';
import type { Json } from '../json.js';
import { typeForUrl } from './proto-registry.js';

/**
 * Proto3 JSON ⇄ protobuf bytes for Envoy's messages. Resources are built as the JSON Envoy's
 * documentation shows (snake_case field names, `"@type"` on Any, `"5s"` durations, bare
 * wrapper values, Struct as plain JSON); this module is the one place that maps that form to
 * protobufjs objects and back. An unknown field is a programmer error and throws.
 */

export type { Json } from '../json.js';
type Obj = { [k: string]: unknown };

const WRAPPERS = new Set([
  'google.protobuf.DoubleValue', 'google.protobuf.FloatValue', 'google.protobuf.Int64Value',
  'google.protobuf.UInt64Value', 'google.protobuf.Int32Value', 'google.protobuf.UInt32Value',
  'google.protobuf.BoolValue', 'google.protobuf.StringValue', 'google.protobuf.BytesValue',
]);

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const typeNames = new WeakMap<protobuf.ReflectionObject, string>();

/** A type's full name without the leading dot (protobufjs rebuilds fullName on every call). */
function typeName(t: protobuf.ReflectionObject): string {
  let n = typeNames.get(t);
  if (n === undefined) typeNames.set(t, (n = t.fullName.replace(/^\./, '')));
  return n;
}

/** `"1.5s"` → `{seconds, nanos}`. */
export function parseDuration(s: string): { seconds: number; nanos: number } {
  const m = /^(-?\d+)(?:\.(\d{1,9}))?s$/.exec(s);
  if (!m) throw new Error(`bad duration "${s}"`);
  const seconds = Number(m[1]);
  const nanos = m[2] ? Number(m[2].padEnd(9, '0')) * (seconds < 0 ? -1 : 1) : 0;
  return { seconds, nanos };
}

/** `{seconds, nanos}` → `"1.5s"`, the shortest exact form. */
export function formatDuration(d: { seconds?: number | string; nanos?: number }): string {
  const seconds = Number(d.seconds ?? 0);
  const nanos = Number(d.nanos ?? 0);
  if (!nanos) return `${seconds}s`;
  const frac = String(Math.abs(nanos)).padStart(9, '0').replace(/0+$/, '');
  return `${seconds === 0 && nanos < 0 ? '-' : ''}${seconds}.${frac}s`;
}

// protobufjs' bundled google.protobuf.Value names its fields in camelCase.
function structFromJson(v: Json): Obj {
  const fields: Obj = {};
  for (const [k, x] of Object.entries(v as Obj)) fields[k] = valueFromJson(x as Json);
  return { fields };
}

function valueFromJson(v: Json): Obj {
  if (v === null) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(valueFromJson) } };
  return { structValue: structFromJson(v) };
}

function structToJson(s: Obj): Json {
  const out: { [k: string]: Json } = {};
  const fields = (s.fields ?? {}) as Record<string, Obj>;
  for (const k of Object.keys(fields).sort()) out[k] = valueToJson(fields[k]!);
  return out;
}

function valueToJson(v: Obj): Json {
  if ('numberValue' in v) return v.numberValue as number;
  if ('stringValue' in v) return v.stringValue as string;
  if ('boolValue' in v) return v.boolValue as boolean;
  if ('listValue' in v) return (((v.listValue as Obj).values ?? []) as Obj[]).map(valueToJson);
  if ('structValue' in v) return structToJson(v.structValue as Obj);
  return null;
}

/** Converts proto3 JSON of `type` to the plain-object form protobufjs' fromObject takes. */
function toPbObject(type: protobuf.Type, json: Json, where: string): unknown {
  const name = typeName(type);
  if (name === 'google.protobuf.Any') {
    const { '@type': url, ...rest } = json as Obj;
    if (typeof url !== 'string') throw new Error(`${where}: Any without "@type"`);
    const inner = typeForUrl(url);
    if (!inner) throw new Error(`${where}: unknown type ${url}`);
    const innerName = typeName(inner);
    const payload = (innerName.startsWith('google.protobuf.') && 'value' in rest && Object.keys(rest).length === 1)
      ? (rest.value as Json) : (rest as Json);
    return { type_url: url, value: encodeJson(inner, payload, `${where}<${innerName}>`) };
  }
  if (name === 'google.protobuf.Duration') return typeof json === 'string' ? parseDuration(json) : json;
  if (WRAPPERS.has(name)) return { value: json };
  if (name === 'google.protobuf.Struct') return structFromJson(json);
  if (name === 'google.protobuf.Value') return valueFromJson(json);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new Error(`${where}: ${name} must be an object, got ${JSON.stringify(json)}`);
  }
  const out: Obj = {};
  for (const [rawKey, value] of Object.entries(json)) {
    const key = type.fields[rawKey] ? rawKey : snake(rawKey);
    const field = type.fields[key];
    if (!field) throw new Error(`${where}: ${name} has no field "${rawKey}"`);
    field.resolve();
    const path = `${where}.${key}`;
    if (value === null) continue;
    const convert = (v: Json, p: string): unknown => {
      const rt = field.resolvedType;
      if (rt instanceof protobuf.Type) return toPbObject(rt, v, p);
      if (rt instanceof protobuf.Enum) {
        const n = typeof v === 'string' ? rt.values[v] : Number.isInteger(v) ? v : undefined;
        if (n === undefined) throw new Error(`${p}: ${JSON.stringify(v)} is not a value of ${typeName(rt)}`);
        return n;
      }
      if (field.type === 'bytes' && typeof v === 'string') return Buffer.from(v, 'base64');
      return v;
    };
    if (field.map) {
      const m: Obj = {};
      for (const [k, v] of Object.entries(value as Obj)) m[k] = convert(v as Json, `${path}[${k}]`);
      out[key] = m;
    } else if (field.repeated) {
      if (!Array.isArray(value)) throw new Error(`${path}: must be a list`);
      out[key] = value.map((v, i) => convert(v, `${path}[${i}]`));
    } else {
      out[key] = convert(value, path);
    }
  }
  return out;
}

/** Proto3 JSON → protobuf bytes of `type`. Throws on unknown fields or wrong shapes. */
export function encodeJson(type: protobuf.Type, json: Json, where = typeName(type)): Uint8Array {
  // toPbObject already gives encode() what it takes (enum numbers, bytes, nested objects),
  // so protobufjs' fromObject copy is skipped.
  return type.encode(toPbObject(type, json, where) as Obj).finish();
}

/** Protobuf bytes of `type` → proto3 JSON (the inverse of encodeJson for what it writes). */
export function decodeToJson(type: protobuf.Type, bytes: Uint8Array): Json {
  const msg = type.decode(bytes);
  const obj = type.toObject(msg, { enums: String, longs: Number, bytes: String, defaults: false, arrays: false });
  return fromPbObject(type, obj as Obj);
}

function fromPbObject(type: protobuf.Type, obj: Obj): Json {
  const name = typeName(type);
  if (name === 'google.protobuf.Any') {
    const url = obj.type_url as string;
    const inner = typeForUrl(url);
    if (!inner) throw new Error(`unknown type ${url}`);
    const raw = obj.value ? Buffer.from(obj.value as string, 'base64') : new Uint8Array();
    const innerJson = decodeToJson(inner, raw);
    const innerName = typeName(inner);
    if (innerName.startsWith('google.protobuf.') && (innerJson === null || typeof innerJson !== 'object' || Array.isArray(innerJson))) {
      return { '@type': url, value: innerJson };
    }
    return { '@type': url, ...(innerJson as Obj) } as Json;
  }
  if (name === 'google.protobuf.Duration') return formatDuration(obj as { seconds?: number; nanos?: number });
  if (WRAPPERS.has(name)) return (obj.value ?? defaultWrapperValue(name)) as Json;
  if (name === 'google.protobuf.Struct') return structToJson(obj);
  if (name === 'google.protobuf.Value') return valueToJson(obj);
  const out: { [k: string]: Json } = {};
  for (const [key, value] of Object.entries(obj)) {
    const field = type.fields[key];
    if (!field) continue;
    field.resolve();
    const sub = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
    const convert = (v: unknown): Json => (sub ? fromPbObject(sub, v as Obj) : (v as Json));
    if (field.map) {
      const m: { [k: string]: Json } = {};
      for (const [k, v] of Object.entries(value as Obj)) m[k] = convert(v);
      out[key] = m;
    } else if (field.repeated) {
      out[key] = (value as unknown[]).map(convert);
    } else {
      out[key] = convert(value);
    }
  }
  return out;
}

function defaultWrapperValue(name: string): Json {
  if (name === 'google.protobuf.BoolValue') return false;
  if (name === 'google.protobuf.StringValue' || name === 'google.protobuf.BytesValue') return '';
  return 0;
}

/**
 * Protobuf bytes of `type` → the message as protobufjs reads it: field names as in the .proto,
 * enums by name, 64-bit integers as numbers, and every field present (proto3's defaults where
 * the bytes have none, null for an absent message). This is the shape proto-loader's generated
 * `__Output` types describe (src/contracts/generated).
 */
export function decodeMessage(type: protobuf.Type, bytes: Uint8Array): { [k: string]: unknown } {
  return type.toObject(type.decode(bytes), { enums: String, longs: Number, defaults: true, arrays: true, oneofs: true });
}
