import type { z } from 'zod';
import { closest, diag } from '../../errors.js';
import { aclSchema, basicauthCredentialSchema, consumerSchema, hmacauthCredentialSchema, jwtSecretSchema, keyauthCredentialSchema } from '../entities.js';
import type { Consumer, Origin } from '../types.js';
import type { Child, CredentialKind, Found, Raw } from './flat-config.js';
import { kongId } from '../../kong-ids.js';
import { parseChild, placeKey, type Ref, type References } from './references.js';
import { parseWith, type Reporter } from './reporter.js';

/** Consumers, keyed by id, else username, else custom_id, each with the credentials that name it. */
export function loadConsumers(rep: Reporter, refs: References, consumers: readonly Found<Raw>[], credentials: Record<CredentialKind, Found<Child>[]>): Consumer[] {
  const loaded: Consumer[] = [];
  // A consumer refused for its own error: what names it (credentials, plugins) goes quietly, so the error is reported once.
  const refused = new Set<string>();
  for (const { value, origin, source } of consumers) {
    const c = parseWith(rep, consumerSchema, value, origin, { source });
    if (!c) {
      for (const k of [value.id, value.username, value.custom_id]) if (typeof k === 'string') refused.add(k);
      if (typeof value.username === 'string') refused.add(kongId('consumers', value.username));
      continue;
    }
    const handle = c.username ?? c.custom_id;
    if (handle === undefined) { rep.at(origin, diag('FD_REQUIRED', origin.path, 'username')); continue; }
    const key = c.id ?? handle;
    // Kong's key is the username (endpoint key); a consumer with only custom_id gets a random id in Kong.
    const id = c.id ?? kongId('consumers', c.username ?? placeKey(origin).slice(1));
    if (c.username) refs.claim('consumer username', c.username, origin, 'username');
    if (c.custom_id) refs.claim('consumer custom_id', c.custom_id, origin, 'custom_id');
    for (const k of [id, c.username, c.custom_id]) if (k) refs.consumer.set(k, key);
    loaded.push({
      key, id, username: c.username, custom_id: c.custom_id, tags: c.tags, origin,
      jwt_secrets: [], keyauth_credentials: [], basicauth_credentials: [], hmacauth_credentials: [], acls: [],
    });
  }
  const byKey = new Map(loaded.map((c) => [c.key, c]));
  const attach = credentialAttacher(rep, refs, byKey, refused);
  attach(credentials.jwt_secrets, jwtSecretSchema, (c, cred) => c.jwt_secrets.push(cred));
  attach(credentials.keyauth_credentials, keyauthCredentialSchema, (c, cred) => c.keyauth_credentials.push(cred));
  attach(credentials.basicauth_credentials, basicauthCredentialSchema, (c, cred) => c.basicauth_credentials.push(cred));
  attach(credentials.hmacauth_credentials, hmacauthCredentialSchema, (c, cred) => c.hmacauth_credentials.push(cred));
  attach(credentials.acls, aclSchema, (c, cred) => c.acls.push(cred));
  refs.refusedConsumers = refused;
  return loaded;
}

interface CredentialFields { consumer?: Ref; created_at?: number; tags: string[] }
type Attached<F> = Omit<F, 'consumer' | 'created_at' | 'tags'> & { origin: Origin };

/** Credentials of one kind onto the consumer each names (nested, or by `consumer` name or id). */
function credentialAttacher(rep: Reporter, refs: References, byKey: ReadonlyMap<string, Consumer>, refused: ReadonlySet<string>) {
  return <S extends z.ZodType<CredentialFields>>(list: readonly Found<Child>[], schema: S, add: (c: Consumer, cred: Attached<z.infer<S>>) => void): void => {
    for (const found of list) {
      const { origin } = found;
      const parsed = parseChild(rep, schema, found, 'consumer', (c) => c.consumer);
      if (!parsed) continue;
      const { child: cred, parent: ref } = parsed;
      const consumer = byKey.get(refs.consumer.get(ref) ?? '');
      if (!consumer && (refused.has(ref) || ref === '')) continue;
      if (!consumer) { rep.at(origin, diag('FD_DANGLING_REF', [...origin.path, 'consumer'], 'consumer', ref, closest(ref, refs.consumer.keys()))); continue; }
      const { consumer: _c, created_at: _ca, tags: _t, ...rest } = cred;
      add(consumer, { ...rest, origin });
    }
  };
}
