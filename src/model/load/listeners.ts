import { closest, diag } from '../../errors.js';
import { listenerSchema } from '../entities.js';
import type { Certificate, Listener, Route } from '../types.js';
import type { Found, Raw } from './flat-config.js';
import type { References } from './references.js';
import { parseWith, type Reporter } from './reporter.js';

/** Listeners (extension): one per fleet, address and port, certificates resolved; then every route's `listeners` checked. `acme`: the config has the acme plugin. */
export function loadListeners(rep: Reporter, refs: References, listeners: readonly Found<Raw>[], certificates: readonly Certificate[], routes: readonly Route[], acme = false): Listener[] {
  const loaded: Listener[] = [];
  const ports = new Map<string, string>();
  for (const { value, origin, source } of listeners) {
    const l = parseWith(rep, listenerSchema, value, origin, { source });
    if (!l) continue;
    refs.claim('listener', l.name, origin, 'name');
    const addr = `${l.fleet ?? ''}|${l.address}:${l.port}`;
    const holder = ports.get(addr);
    if (holder !== undefined) { rep.at(origin, diag('FD_LISTENER_PORT_CLASH', [...origin.path, 'port'], l.port, holder)); continue; }
    ports.set(addr, l.name);
    (l.certificates ?? []).forEach((ref, i) => {
      if (!refs.certificate.has(ref)) rep.at(origin, diag('FD_UNKNOWN_CERTIFICATE', [...origin.path, 'certificates', i], ref));
    });
    // With the acme plugin an https listener may have none: it serves ACME's certificates, and a
    // self-signed default (Kong's own default certificate) to the names it has none for.
    if ((l.protocol === 'tls' || (l.protocol === 'https' && !acme)) && !l.certificates?.length && certificates.length === 0) {
      rep.at(origin, diag('FD_REQUIRED', [...origin.path, 'certificates'], 'certificates'));
    }
    loaded.push({ ...l, certificates: l.certificates?.map((r) => refs.certificate.get(r) ?? r), origin });
  }
  const names = new Set(loaded.map((l) => l.name));
  for (const r of routes) {
    (r.listeners ?? []).forEach((l, i) => {
      if (!names.has(l)) rep.at(r.origin, diag('FD_DANGLING_REF', [...r.origin.path, 'listeners', i], 'listener', l, closest(l, names)));
    });
  }
  return loaded;
}
