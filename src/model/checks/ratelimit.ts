import { diag } from '../../errors.js';
import { MAX_STAGES } from '../../rate-limits.js';
import { pluginFeature } from '../plugins/index.js';
import type { Plugin } from '../types.js';
import type { Finding } from './authz.js';

/**
 * Rate-limiting checks that need every plugin at once: Envoy's ratelimit filter refuses with
 * one status and fails one way per filter stage, so each distinct (error_code,
 * fault_tolerant) pair takes a stage, and there are MAX_STAGES of them.
 */
export function checkRateLimiting(plugins: readonly Plugin[]): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const p of plugins) {
    if (p.name !== 'rate-limiting') continue;
    const c = pluginFeature('rate-limiting', p.config);
    const key = `${c.error_code}|${c.fault_tolerant}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (seen.size > MAX_STAGES) {
      out.push({
        origin: p.origin,
        diagnostic: diag('FD_INVALID_VALUE', [...p.origin.path, 'config', 'error_code'],
          `rate-limiting: more than ${MAX_STAGES} distinct (error_code, fault_tolerant) pairs across the configuration`,
          `Envoy serves at most ${MAX_STAGES}; use fewer distinct error codes`),
      });
    }
  }
  return out;
}
