import type { AuthOutcome, PluginContext } from '../context.js';
import { noRemovals } from '../context.js';
import type { RequestView } from '../request.js';
import { unauthorized } from '../responses.js';
import type { KeyAuthConfig } from '../types.js';

/**
 * Kong's key-auth do_authentication: for each key name in order, the header (key_in_header),
 * then the query (key_in_query), then the body (key_in_body); the first string found is the
 * key. A repeated value is "Duplicate API key found". With hide_credentials the key name is
 * removed from headers, query (and body) once a key is found, whatever happens next.
 * Every 401 carries `WWW-Authenticate: Key` (with `realm="..."` when configured).
 */
export function authenticateKeyAuth(conf: KeyAuthConfig, req: RequestView, ctx: PluginContext): AuthOutcome {
  const www = conf.realm ? `Key realm="${conf.realm}"` : 'Key';
  const removals = noRemovals();
  let key: string | undefined;
  for (const name of conf.key_names ?? []) {
    let v: unknown;
    if (conf.key_in_header) {
      const h = req.header(name);
      // Envoy hands a repeated header over comma-joined: treat it as Kong treats a repeat.
      v = h !== undefined && h.includes(',') ? h.split(',') : h;
    }
    if (v === undefined && conf.key_in_query) v = req.query.get(name);
    if (v === undefined && conf.key_in_body) v = req.body[name];
    if (typeof v === 'string') {
      key = v;
      if (conf.hide_credentials) {
        removals.headers.push(name.toLowerCase());
        // The header was found under either spelling (nginx's "_" → "-"): hide both.
        if (name.includes('_')) removals.headers.push(name.toLowerCase().replace(/_/g, '-'));
        // Every spelling of the name (Kong matches the decoded name, Envoy removes the written one).
        removals.query.push(name, ...req.rawQueryNames(name).filter((raw) => raw !== name));
        if (conf.key_in_body) removals.body.push(name);
      }
      break;
    }
    if (Array.isArray(v)) return { ok: false, deny: unauthorized('Duplicate API key found', www), removals };
  }
  if (key === undefined || key === '') return { ok: false, deny: unauthorized('No API key found in request', www), removals };
  const cred = ctx.index.findKey(key);
  if (!cred) return { ok: false, deny: unauthorized('Unauthorized', www), removals };
  return { ok: true, consumer: cred.consumer, credentialId: cred.id, removals };
}
