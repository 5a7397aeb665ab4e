import { X509Certificate } from 'node:crypto';
import { request } from 'node:http';

/** What the Admin API's /acme endpoints need of the control plane's ACME manager. */
export interface AcmeAdmin {
  /** Whether the config being served has the acme plugin. */
  configured(): boolean;
  /** Whether the plugin's `domains` take the host (Kong's sanity check reads `domains` only). */
  inDomains(host: string): boolean;
  /** Orders a certificate for the host now (Kong's update_certificate); rejects with the reason. */
  create(host: string): Promise<void>;
  /** Runs the renewal check now, in the background. */
  renew(): void;
  /** The certificates the storage holds for the names the plugin serves, PEM. */
  certificates(): Promise<{ host: string; cert: string }[]>;
  /** The certificate the storage holds for one name. */
  certificate(host: string): Promise<string | undefined>;
}

type Send = (status: number, body?: unknown) => void;

/** How long the sanity check waits for the challenge path to answer. */
const PROBE_TIMEOUT_MS = 5_000;
/** The unknown-token answer of the acme plugin's challenge route (resources/route-config.ts). */
const NOT_FOUND_BODY = '{"message":"Not found"}';

const pad = (n: number) => String(n).padStart(2, '0');
/** Kong's `os.date("%Y-%m-%d %H:%M:%S")`, in UTC. */
const kongDate = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
const colons = (hex: string) => (hex.length % 2 ? `0${hex}` : hex).toUpperCase().match(/../g)!.join(':');
const cn = (dn: string) => /(?:^|\n)CN=([^\n]*)/.exec(dn)?.[1] ?? null;

/** A certificate as Kong's /acme/certificates describes it (kong/plugins/acme/api.lua parse_certkey). */
export function describeCertificate(pem: string, now = Date.now()): Record<string, unknown> {
  const x = new X509Certificate(pem);
  const notBefore = new Date(x.validFrom);
  const notAfter = new Date(x.validTo);
  return {
    digest: x.fingerprint,
    // Kong reads the subject's CN; a CA that leaves it out (Let's Encrypt's profiles without one, Pebble) names the host in the first DNS name.
    host: cn(x.subject) ?? /DNS:([^,\s]+)/.exec(x.subjectAltName ?? '')?.[1] ?? null,
    issuer_cn: cn(x.issuer),
    not_before: kongDate(notBefore),
    not_after: kongDate(notAfter),
    valid: notBefore.getTime() < now && notAfter.getTime() > now,
    serial_number: colons(x.serialNumber),
    pubkey_type: x.publicKey.asymmetricKeyType === 'ec' ? 'id-ecPublicKey' : x.publicKey.asymmetricKeyType === 'rsa' ? 'rsaEncryption' : String(x.publicKey.asymmetricKeyType),
  };
}

/** GET http://<host>/.well-known/acme-challenge/x, as the CA would reach it: its status and body, or why it failed. */
function probe(host: string): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request({ host, port: 80, path: '/.well-known/acme-challenge/x', timeout: PROBE_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { if (body.length < 4096) body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
    req.on('error', (e) => resolve({ error: e.message }));
    req.end();
  });
}

/** The request's parameters: a JSON or form body, then the query string (Kong's lapis params). */
export function acmeParams(raw: string, contentType: string, url: URL): Record<string, string> {
  const out: Record<string, string> = Object.fromEntries(url.searchParams);
  if (/application\/json/.test(contentType) && raw.trim()) {
    try {
      const j = JSON.parse(raw) as unknown;
      if (j && typeof j === 'object' && !Array.isArray(j)) for (const [k, v] of Object.entries(j)) out[k] = String(v);
    } catch { /* not JSON: no parameters from it */ }
  } else if (raw.trim()) {
    for (const [k, v] of new URLSearchParams(raw)) out[k] = v;
  }
  return out;
}

/**
 * Kong's acme Admin API (kong/plugins/acme/api.lua): POST /acme orders a certificate for a host
 * now (or, with test_http_challenge_flow, checks that the challenge path reaches the plugin),
 * PATCH /acme runs the renewal check, GET /acme/certificates and /acme/certificates/<host>
 * describe what the storage holds. 404 with no acme plugin, as Kong's.
 */
export async function serveAcme(parts: string[], method: string, params: () => Promise<Record<string, string> | undefined>, acme: AcmeAdmin, send: Send, denied: () => { status: number; message: string } | undefined): Promise<void> {
  const [, sub, host, ...rest] = parts;
  if (!acme.configured()) return send(404, { message: 'Not found' });
  if (sub === undefined) {
    if (method === 'PATCH') {
      const no = denied();
      if (no) return send(no.status, { message: no.message });
      acme.renew();
      return send(202, { message: 'Renewal process started successfully' });
    }
    if (method !== 'POST') return send(405, { message: 'Method not allowed' });
    const no = denied();
    if (no) return send(no.status, { message: no.message });
    const p = await params();
    if (p === undefined) return send(413, { message: 'the body is too large' });
    const target = p.host;
    if (!target) return send(400, { message: 'host must be provided and containing a single domain' });
    if (target.includes(':')) return send(400, { message: 'port is not allowed in host' });
    const name = target.toLowerCase();
    if (p.test_http_challenge_flow === 'true') {
      const problem = (why: string) => send(400, { message: `problem found running sanity check for ${name}: ${why}` });
      if (!acme.inDomains(name)) return problem('host is not included in plugin config.domains');
      const r = await probe(name);
      if ('error' in r) return problem(r.error);
      if (/no Route matched with those values/.test(r.body)) return problem(`http://${name}/.well-known/acme-challenge/* is answered without the acme plugin: no http listener of Frontdesk's Envoys serves the name`);
      if (r.status !== 404 || r.body !== NOT_FOUND_BODY) return problem(`unexpected response: "${r.body}"${r.status !== 404 ? `, unexpected status code: ${r.status}` : ''}`);
      return send(200, { message: `sanity test for host ${name} passed` });
    }
    try {
      await acme.create(name);
    } catch (e) {
      return send(500, { message: `failed to update certificate: ${(e as Error).message}` });
    }
    return send(201, { message: `certificate for host ${name} is created` });
  }
  if (sub !== 'certificates' || rest.length || method !== 'GET') return send(method === 'GET' ? 404 : 405, { message: method === 'GET' ? 'Not found' : 'Method not allowed' });
  if (host === undefined) {
    const p = await params();
    const invalidOnly = p?.invalid_only === 'true';
    const data = (await acme.certificates()).map((c) => describeCertificate(c.cert)).filter((d) => !invalidOnly || !d.valid);
    return send(200, { data });
  }
  const pem = await acme.certificate(host.toLowerCase());
  if (!pem) return send(404, { message: `Certificate for host ${host} not found in storage` });
  return send(200, { data: describeCertificate(pem) });
}
