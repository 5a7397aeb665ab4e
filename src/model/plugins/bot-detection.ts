import { RE2JS } from 're2js';
import { z } from 'zod';
import { definePlugin } from './definition.js';

/** A pattern of `allow` or `deny`: Kong checks it is a regex (`is_regex`); Envoy needs RE2. */
const pattern = z.string().superRefine((p, ctx) => {
  try {
    RE2JS.compile(p);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `'${p}' is not a valid regex (RE2, which Envoy matches with): ${(e as Error).message}` });
  }
});

/**
 * Kong 3.x `bot-detection` plugin config (kong/plugins/bot-detection/schema.lua): regexes the
 * User-Agent is searched for, `allow` before `deny` before Kong's own bot rules.
 */
export const botDetectionConfigSchema = z.strictObject({
  allow: z.array(pattern).optional(),
  deny: z.array(pattern).optional(),
});

export type BotDetectionConfig = z.output<typeof botDetectionConfigSchema>;

/** What the IR carries: the two lists (Kong's defaults: empty). */
export interface BotDetectionFeature {
  allow: readonly string[];
  deny: readonly string[];
}

export const botDetectionPlugin = definePlugin({
  name: 'bot-detection',
  config: botDetectionConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['allow', 'deny'] },
  enforcers: () => ['envoy'],
  feature: (c): BotDetectionFeature => ({ allow: c.allow ?? [], deny: c.deny ?? [] }),
});
