import { z } from 'zod';
import { definePlugin } from './definition.js';
import { hasTemplate, parseTemplate, TEMPLATE_FORMS } from '../../kong-template.js';
import { HEADER_NAME, HEADER_VALUE, notServed, splitColon } from './native-common.js';

const strings = z.array(z.string()).default([]);

/** `name` alone (remove.headers). */
const headerNames = z.array(z.string().regex(HEADER_NAME, 'is not a valid header')).default([]);

/** `old:new` (rename.headers): two header names. */
const headerPairs = z.array(z.string().refine((e) => {
  const p = splitColon(e);
  return p !== undefined && e.includes(':') && HEADER_NAME.test(p.name.trim()) && HEADER_NAME.test(p.value.trim());
}, { message: 'must be "old-name:new-name", two header names' })).default([]);

/** `name:value` (replace/add/append.headers): a header name and a value. */
const headerValues = z.array(z.string().refine((e) => {
  const p = splitColon(e);
  return p !== undefined && e.includes(':') && HEADER_NAME.test(p.name.trim()) && HEADER_VALUE.test(p.value);
}, { message: 'must be "name:value" with a valid header name and value' })).default([]);

/** `name:value` with a non-empty value (body and querystring entries). */
const colonStrings = z.array(z.string().refine((e) => (splitColon(e)?.value ?? '') !== '', { message: 'has no value (write "name:value")' })).default([]);

const removeRecord = z.strictObject({ body: strings, headers: headerNames, querystring: strings }).default({ body: [], headers: [], querystring: [] });
const renameRecord = z.strictObject({ body: colonStrings, headers: headerPairs, querystring: colonStrings }).default({ body: [], headers: [], querystring: [] });
const valuesRecord = z.strictObject({ body: colonStrings, headers: headerValues, querystring: colonStrings }).default({ body: [], headers: [], querystring: [] });
const replaceRecord = z.strictObject({ body: colonStrings, headers: headerValues, querystring: colonStrings, uri: z.string().optional() })
  .default({ body: [], headers: [], querystring: [] });

export const TRANSFORM_OPERATIONS = ['remove', 'rename', 'replace', 'add', 'append'] as const;

/**
 * Kong 3.x `request-transformer` plugin config (kong/plugins/request-transformer/schema.lua),
 * with Kong's defaults. Envoy serves the header operations and replace.uri; the transform
 * companion (ext_proc) the body (JSON and form), querystring and http_method parts, and every
 * part of a route whose config holds a `$(...)` template (src/kong-template.ts: the forms Kong
 * documents; any other Lua expression is refused here).
 */
export const requestTransformerConfigSchema = z.strictObject({
  http_method: z.string().regex(/^[A-Z]+$/, 'must be an HTTP method in capitals').optional(),
  remove: removeRecord,
  rename: renameRecord,
  replace: replaceRecord,
  add: valuesRecord,
  append: valuesRecord,
}).superRefine((c, ctx) => {
  const fail = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const checkTemplate = (path: (string | number)[], value: string) => {
    if (!hasTemplate(value)) return;
    const t = parseTemplate(value);
    if ('error' in t) fail(path, notServed(`the template ${t.error}`, `write it with ${TEMPLATE_FORMS}, or a literal value`));
  };
  for (const op of TRANSFORM_OPERATIONS) {
    for (const part of ['headers', 'querystring', 'body'] as const) {
      c[op][part].forEach((e, i) => {
        if (!hasTemplate(e)) return;
        const p = splitColon(e);
        if (op === 'rename' || op === 'remove' || !p) fail([op, part, i], notServed(`a $(...) template in ${op}`, 'write literal names'));
        else if (part === 'headers' && p.name.trim().toLowerCase() === 'host') fail([op, part, i], notServed('a $(...) template in the Host header', 'write a literal host'));
        else checkTemplate([op, part, i], p.value);
      });
    }
  }
  if (c.replace.uri !== undefined) checkTemplate(['replace', 'uri'], c.replace.uri);
  if (c.replace.uri !== undefined && !c.replace.uri.startsWith('/')) fail(['replace', 'uri'], 'must be a path starting with "/"');
});

/** Whether a request-transformer config holds a `$(...)` template (its parts are then all the transform companion's). */
export function hasTemplates(c: RequestTransformerConfig): boolean {
  return (c.replace.uri !== undefined && hasTemplate(c.replace.uri))
    || TRANSFORM_OPERATIONS.some((op) => (['headers', 'querystring', 'body'] as const).some((part) => c[op][part].some(hasTemplate)));
}

export type RequestTransformerConfig = z.output<typeof requestTransformerConfigSchema>;

/** What the IR carries: Kong's config, and whether it holds a template (then the transform companion does every part of it). */
export interface RequestTransformerFeature extends RequestTransformerConfig {
  templated: boolean;
}

export const requestTransformerPlugin = definePlugin({
  name: 'request-transformer',
  config: requestTransformerConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: {
      applied: ['http_method', 'replace.uri', ...['remove', 'rename', 'replace', 'add', 'append'].flatMap((op) => ['body', 'headers', 'querystring'].map((f) => `${op}.${f}`))],
    },
  enforcers: (c) => (c.http_method || hasTemplates(c) || c.remove.body.length || c.rename.body.length || c.replace.body.length || c.add.body.length || c.append.body.length
    || c.remove.querystring.length || c.rename.querystring.length || c.replace.querystring.length || c.add.querystring.length || c.append.querystring.length
    ? ['envoy', 'transform'] : ['envoy']),
  feature: (c): RequestTransformerFeature => ({ ...c, templated: hasTemplates(c) }),
});
