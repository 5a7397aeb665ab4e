import { z } from 'zod';
import { asIs, definePlugin } from './definition.js';
import { HEADER_NAME, HEADER_VALUE, splitColon } from './native-common.js';

const strings = z.array(z.string()).default([]);
const colonStrings = z.array(z.string().regex(/^[^:]+:[\s\S]*$/, 'must be "name:value"')).default([]);
const jsonTypes = z.array(z.enum(['boolean', 'number', 'string'])).default([]);

const headerPairs = z.array(z.string().refine((e) => {
  const p = splitColon(e);
  return p !== undefined && e.includes(':') && HEADER_NAME.test(p.name.trim()) && HEADER_NAME.test(p.value.trim());
}, { message: 'must be "old-name:new-name", two header names' })).default([]);

const headerValues = z.array(z.string().refine((e) => {
  const p = splitColon(e);
  return p !== undefined && e.includes(':') && HEADER_NAME.test(p.name.trim()) && HEADER_VALUE.test(p.value);
}, { message: 'must be "name:value" with a valid header name and value' })).default([]);

export const RESPONSE_TRANSFORM_OPERATIONS = ['remove', 'rename', 'replace', 'add', 'append'] as const;

/**
 * Kong 3.x `response-transformer` plugin config (kong/plugins/response-transformer/schema.lua),
 * with Kong's defaults. Envoy serves the header operations; the transform companion (ext_proc)
 * the json parts.
 */
export const responseTransformerConfigSchema = z.strictObject({
  remove: z.strictObject({ json: strings, headers: z.array(z.string().regex(HEADER_NAME, 'is not a valid header')).default([]) }).default({ json: [], headers: [] }),
  rename: z.strictObject({ json: colonStrings, headers: headerPairs }).default({ json: [], headers: [] }),
  replace: z.strictObject({ json: colonStrings, json_types: jsonTypes, headers: headerValues }).default({ json: [], json_types: [], headers: [] }),
  add: z.strictObject({ json: colonStrings, json_types: jsonTypes, headers: headerValues }).default({ json: [], json_types: [], headers: [] }),
  append: z.strictObject({ json: colonStrings, json_types: jsonTypes, headers: headerValues }).default({ json: [], json_types: [], headers: [] }),
});

export type ResponseTransformerConfig = z.output<typeof responseTransformerConfigSchema>;

export const responseTransformerPlugin = definePlugin({
  name: 'response-transformer',
  config: responseTransformerConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: {
      applied: [...['remove', 'rename', 'replace', 'add', 'append'].flatMap((op) => ['json', 'headers'].map((f) => `${op}.${f}`)), 'replace.json_types', 'add.json_types', 'append.json_types'],
    },
  enforcers: (c) => (c.remove.json.length || c.rename.json.length || c.replace.json.length || c.add.json.length || c.append.json.length ? ['envoy', 'transform'] : ['envoy']),
  feature: asIs,
});
