import { z } from 'zod';
import { asIs, definePlugin } from './definition.js';
import { HEADER_NAME, HEADER_VALUE, isTemplate, notServed, splitColon } from './native-common.js';

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
 * companion (ext_proc) the body (JSON and form), querystring and http_method parts; `$(...)`
 * templates are refused.
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
  for (const op of TRANSFORM_OPERATIONS) {
    c[op].headers.forEach((e, i) => {
      if (isTemplate(e)) fail([op, 'headers', i], notServed('a $(...) template', 'write a literal value'));
    });
  }
  if (c.replace.uri !== undefined && isTemplate(c.replace.uri)) fail(['replace', 'uri'], notServed('a $(...) template', 'write a literal path'));
  if (c.replace.uri !== undefined && !c.replace.uri.startsWith('/')) fail(['replace', 'uri'], 'must be a path starting with "/"');
});

export type RequestTransformerConfig = z.output<typeof requestTransformerConfigSchema>;

export const requestTransformerPlugin = definePlugin({
  name: 'request-transformer',
  config: requestTransformerConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: {
      applied: ['http_method', 'replace.uri', ...['remove', 'rename', 'replace', 'add', 'append'].flatMap((op) => ['body', 'headers', 'querystring'].map((f) => `${op}.${f}`))],
    },
  enforcers: (c) => (c.http_method || c.remove.body.length || c.rename.body.length || c.replace.body.length || c.add.body.length || c.append.body.length
    || c.remove.querystring.length || c.rename.querystring.length || c.replace.querystring.length || c.add.querystring.length || c.append.querystring.length
    ? ['envoy', 'transform'] : ['envoy']),
  feature: asIs,
});
