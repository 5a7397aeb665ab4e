import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatDiagnostic } from '../../src/errors.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { goldenCases, sortKeys, type GoldenCase } from './golden.js';

/**
 * The IR layer's golden files: test/golden/<case>/ir.json, beside out.json, for the cases that
 * have one. The IR is printed as JSON with sorted keys, bigints as decimal strings, and every
 * credential redacted, so a change shows which layer moved: the IR (ir.json) or the Envoy
 * resources built from it (out.json).
 */

/** Fields that hold a credential, wherever they appear in the IR. */
const SECRET_FIELDS = new Set(['secret', 'password', 'keyPem', 'key_pem']);

/** Collections whose items' `key` is a credential (key-auth keys), not a name. */
const KEYED_CREDENTIALS = new Set(['keyauth_credentials']);

function redact(v: unknown, parent = ''): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map((x) => redact(x, parent));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const secret = SECRET_FIELDS.has(k) || (k === 'key' && KEYED_CREDENTIALS.has(parent));
      out[k] = secret && typeof x === 'string' ? '<redacted>' : redact(x, k);
    }
    return out;
  }
  return v;
}

/** The cases that have an ir.json. */
export function irGoldenCases(): Array<GoldenCase & { irFile: string }> {
  return goldenCases().map((c) => ({ ...c, irFile: join(c.dir, 'ir.json') })).filter((c) => existsSync(c.irFile));
}

/** One case's YAML → its IR as ir.json holds it (or the errors, when it does not compile). */
export function renderIr(text: string, file = 'in.yaml'): { text?: string; errors: string } {
  const r = compileConfig([{ file, text }]);
  const errors = r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('\n');
  if (!r.ok || !r.ir) return { errors: errors || 'compile failed with no error diagnostic' };
  return { text: `${JSON.stringify(sortKeys(redact(r.ir)), null, 2)}\n`, errors };
}
