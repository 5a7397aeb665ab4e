import type { z } from 'zod';

/** Where a plugin may be attached: globally, on a service, on a route, or on a consumer. */
export type PluginScope = 'global' | 'service' | 'route' | 'consumer';

/**
 * One Kong plugin as the model knows it: its name and the zod schema of its `config`.
 * The schema is strict (unknown keys are errors) and carries Kong's defaults (`.default()`);
 * the loader removes `null` values (deck dump's "unset") before parsing, so a default applies.
 * Adding a plugin adds a file under src/model/plugins/ and one line in its index.
 */
export interface PluginDefinition<Config = unknown> {
  name: string;
  config: z.ZodType<Config>;
  scopes: readonly PluginScope[];
}

export function definePlugin<Config>(def: PluginDefinition<Config>): PluginDefinition<Config> {
  return def;
}
