import { createPublicKey, generateKeyPair, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { domainToASCII, URL } from 'node:url';
import { buildCsr } from './csr.js';
import { accountJwk, accountKeyAlg, base64url, externalAccountBinding, jwkThumbprint, keyAuthorization, signJws, type KeyRef } from './jws.js';

/**
 * An ACME client (RFC 8555) for the acme plugin: an account (newAccount, with an external
 * account binding when the CA wants one), then an order proved by http-01 for every name,
 * finalized with a CSR for a fresh key, and its certificate chain downloaded (an alternate
 * chain when a preferred issuer is named, as Kong's preferred_chain picks one).
 *
 * Protocol rules it keeps: every POST is a JWS with a fresh nonce, taken from the last
 * response's Replay-Nonce or from newNonce (§7.2), and a badNonce rejection is retried with the
 * nonce that came with it (§6.5); resources are fetched by POST-as-GET (§6.3); status is polled,
 * waiting as Retry-After says within bounds (§7.5.1, §7.4). Keys and MAC keys never appear in
 * an error message; the client writes nothing to the console.
 */

export interface AcmeChallengeResponder {
  /** Serve `keyAuthorization` at http://<domain>/.well-known/acme-challenge/<token> (RFC 8555 §8.3). */
  present(token: string, keyAuthorization: string): Promise<void>;
  /** Stop serving it: called for every token presented, whether the authorization succeeded or not. */
  remove(token: string): Promise<void>;
}

export interface AcmeClientOptions {
  directoryUrl: string;
  /** The account's private key: EC P-256 (ES256) or RSA (RS256). */
  accountKey: KeyObject;
  /** PEM roots trusted for the ACME server in addition to Node's defaults. */
  ca?: string[];
  /** Per HTTP request, default 15000. */
  timeoutMs?: number;
  /** Overall wait for an authorization or order status, default 120000. */
  pollTimeoutMs?: number;
}

export interface IssuedCertificate {
  /** PEM chain, leaf first. */
  certificate: string;
  /** PEM PKCS#8. */
  key: string;
  notAfter: Date;
  /** The names the certificate was ordered for, in the ASCII (xn--) form, lower case, without duplicates. */
  domains: string[];
}

/** An RFC 7807 problem document as ACME servers send them (RFC 8555 §6.7). */
export interface AcmeProblem {
  type?: string;
  detail?: string;
  status?: number;
  subproblems?: unknown[];
}

export class AcmeError extends Error {
  override readonly name = 'AcmeError';
  /** The server's problem document, when the failure is one the server reported. */
  readonly problem?: AcmeProblem;

  constructor(message: string, problem?: AcmeProblem, options?: { cause?: unknown }) {
    super(message, options);
    if (problem) this.problem = problem;
  }
}

/** An EC P-256 account key (ES256, RFC 7518 §3.4). */
export function generateAccountKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

/** A certificate key as Kong's cert_type and rsa_key_size ask: RSA of that size, or EC P-256. */
export function generateCertificateKey(type: 'rsa' | 'ecc', rsaKeySize: 2048 | 3072 | 4096): KeyObject {
  return type === 'ecc'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    : generateKeyPairSync('rsa', { modulusLength: rsaKeySize }).privateKey;
}

/** generateCertificateKey off the event loop (an RSA 4096 key takes a while to find). */
function certificateKey(type: 'rsa' | 'ecc', rsaKeySize: 2048 | 3072 | 4096): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, _pub: KeyObject, priv: KeyObject) => (err ? reject(err) : resolve(priv));
    if (type === 'ecc') generateKeyPair('ec', { namedCurve: 'P-256' }, done);
    else generateKeyPair('rsa', { modulusLength: rsaKeySize }, done);
  });
}

const USER_AGENT = 'frontdesk-acme/0.1 (node)';
const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_POLL_TIMEOUT_MS = 120_000;
/** No ACME resource comes near this (a chain is a few KB); a larger answer is refused. */
const MAX_RESPONSE_BYTES = 1 << 20;
/** Retries of one request rejected for its nonce (Pebble rejects 5% of good nonces by default). */
const BAD_NONCE_RETRIES = 3;
/** Polling without Retry-After: 250 ms, doubled up to 2 s. */
const POLL_FIRST_MS = 250;
const POLL_MAX_MS = 2_000;
/** A Retry-After is waited for, but never less than POLL_FIRST_MS nor more than this. */
const RETRY_AFTER_CAP_MS = 10_000;
/** Nonces kept from responses; one is used per request, so a few are plenty. */
const MAX_NONCES = 8;
const PROBLEM_PREFIX = 'urn:ietf:params:acme:error:';
/** RFC 8555 §8.1: a token holds base64url characters only (it becomes a URL path segment). */
const TOKEN = /^[A-Za-z0-9_-]+$/;

interface Directory {
  newNonce: string;
  newAccount: string;
  newOrder: string;
  meta?: { termsOfService?: string; externalAccountRequired?: boolean };
}

interface Identifier { type: string; value: string }

interface Challenge { type: string; url: string; status: string; token?: string; error?: AcmeProblem }

interface Authorization {
  identifier?: Identifier;
  status: string;
  wildcard?: boolean;
  challenges?: Challenge[];
}

interface Order {
  status: string;
  identifiers?: Identifier[];
  authorizations?: string[];
  finalize?: string;
  certificate?: string;
  error?: AcmeProblem;
}

interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  url: string;
}

export class AcmeClient {
  private readonly directoryUrl: string;
  private readonly accountKey: KeyObject;
  /** Node's roots and the extra ones, parsed once (a context per request would parse ~150 PEMs each time). */
  private readonly secureContext?: tls.SecureContext;
  private readonly timeoutMs: number;
  private readonly pollTimeoutMs: number;
  private directoryLoad?: Promise<Directory>;
  private readonly nonces: string[] = [];
  private kid?: string;

  constructor(opts: AcmeClientOptions) {
    if (opts.accountKey.type !== 'private') throw new AcmeError('the ACME account key must be a private key');
    try {
      accountKeyAlg(opts.accountKey);
    } catch (err) {
      throw new AcmeError((err as Error).message);
    }
    this.directoryUrl = opts.directoryUrl;
    this.accountKey = opts.accountKey;
    if (opts.ca && opts.ca.length > 0) {
      try {
        this.secureContext = tls.createSecureContext({ ca: [...tls.rootCertificates, ...opts.ca] });
      } catch (err) {
        throw new AcmeError(`the ACME server's extra CA certificates cannot be read: ${(err as Error).message}`);
      }
    }
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.pollTimeoutMs = opts.pollTimeoutMs ?? DEFAULT_POLL_TIMEOUT_MS;
  }

  /** newAccount (RFC 8555 §7.3): creates the account, or finds the one this key already has (200); returns its URL (the kid). */
  async account(opts: { email: string; termsAgreed: boolean; eab?: { kid: string; hmacKey: string } }): Promise<string> {
    try {
      const dir = await this.directory();
      const jwk = accountJwk(this.accountKey);
      const payload: Record<string, unknown> = { termsOfServiceAgreed: opts.termsAgreed };
      if (opts.email) payload.contact = [`mailto:${opts.email}`];
      if (opts.eab) payload.externalAccountBinding = externalAccountBinding(jwk, opts.eab, dir.newAccount);
      const res = await this.post(dir.newAccount, payload, { jwk }, 'newAccount');
      const location = header(res.headers, 'location');
      if (!location) throw new AcmeError(`newAccount answered ${res.status} without a Location (the account URL)`);
      const account = json<{ status?: string }>(res, 'newAccount');
      if (account.status !== undefined && account.status !== 'valid') throw new AcmeError(`the account is ${account.status}`);
      this.kid = new URL(location, res.url).href;
      return this.kid;
    } catch (err) {
      throw wrap(`ACME account registration with ${this.directoryUrl} failed`, err);
    }
  }

  /**
   * An order for `domains` (RFC 8555 §7.4) proved by http-01 (§8.3) and finalized with a CSR for
   * a fresh key of the type asked; the chain the CA gives, or the first alternate one whose
   * topmost certificate was issued by `preferredChain` (an issuer common name).
   */
  async order(domains: string[], responder: AcmeChallengeResponder, opts: { certType: 'rsa' | 'ecc'; rsaKeySize: 2048 | 3072 | 4096; preferredChain?: string }): Promise<IssuedCertificate> {
    const names: string[] = [];
    for (const d of domains) {
      const name = domainToASCII(d.trim());
      if (!name) throw new AcmeError(`ACME order failed: ${JSON.stringify(d)} is not a domain name`);
      if (!names.includes(name)) names.push(name);
    }
    if (names.length === 0) throw new AcmeError('ACME order failed: no domains');
    try {
      return await this.issue(names, responder, opts);
    } catch (err) {
      throw wrap(`ACME order for ${names.join(', ')} failed`, err);
    }
  }

  private async issue(names: string[], responder: AcmeChallengeResponder, opts: { certType: 'rsa' | 'ecc'; rsaKeySize: 2048 | 3072 | 4096; preferredChain?: string }): Promise<IssuedCertificate> {
    if (!this.kid) throw new AcmeError('no ACME account: call account() first');
    const dir = await this.directory();
    const created = await this.post(dir.newOrder, { identifiers: names.map((value) => ({ type: 'dns', value })) }, undefined, 'newOrder');
    const location = header(created.headers, 'location');
    if (!location) throw new AcmeError(`newOrder answered ${created.status} without a Location (the order URL)`);
    const orderUrl = new URL(location, created.url).href;
    let order = json<Order>(created, 'newOrder');
    if (order.status === 'invalid') throw new AcmeError(`order invalid: ${describeProblem(order.error)}`, order.error);

    // The authorizations side by side (each waits on the CA's validation); every one is let
    // finish, so each presented token is removed before the order's outcome is reported.
    const thumbprint = jwkThumbprint(this.accountKey);
    const results = await Promise.allSettled((order.authorizations ?? []).map((url) => this.authorize(url, responder, thumbprint)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    order = await this.poll<Order>(orderUrl, (o) => o.status !== 'pending', 'order');
    if (order.status !== 'ready') throw new AcmeError(`order ${order.status} once authorized${order.error ? `: ${describeProblem(order.error)}` : ''}`, order.error);
    if (!order.finalize) throw new AcmeError('the order has no finalize URL');

    const key = await certificateKey(opts.certType, opts.rsaKeySize);
    const finalized = await this.post(order.finalize, { csr: base64url(buildCsr(names, key)) }, undefined, 'finalize');
    order = json<Order>(finalized, 'finalize');
    if (order.status !== 'valid' && order.status !== 'invalid') {
      order = await this.poll<Order>(orderUrl, (o) => o.status !== 'processing' && o.status !== 'ready', 'order');
    }
    if (order.status !== 'valid') throw new AcmeError(`order ${order.status} after finalize${order.error ? `: ${describeProblem(order.error)}` : ''}`, order.error);
    if (!order.certificate) throw new AcmeError('the valid order has no certificate URL');

    const chain = await this.downloadChain(new URL(order.certificate, orderUrl).href, opts.preferredChain);
    const leaf = chain[0]!;
    const ours = createPublicKey(key).export({ type: 'spki', format: 'der' });
    if (!leaf.cert.publicKey.export({ type: 'spki', format: 'der' }).equals(ours)) {
      throw new AcmeError('the certificate downloaded is not for the key the CSR was signed with');
    }
    const notAfter = new Date(leaf.cert.validTo);
    if (Number.isNaN(notAfter.getTime())) throw new AcmeError(`the certificate's notAfter cannot be read: ${leaf.cert.validTo}`);
    return {
      certificate: chain.map((c) => c.pem).join(''),
      key: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
      notAfter,
      domains: names,
    };
  }

  /** One authorization: nothing to do when already valid, else http-01 presented, answered, polled, and removed whatever happens. */
  private async authorize(url: string, responder: AcmeChallengeResponder, thumbprint: string): Promise<void> {
    const authz = json<Authorization>(await this.post(url, '', undefined, 'authorization'), 'authorization');
    const name = authz.identifier ? `${authz.wildcard ? '*.' : ''}${authz.identifier.value}` : url;
    if (authz.status === 'valid') return;
    if (authz.status !== 'pending') throw new AcmeError(`authorization for ${name} is ${authz.status}`);
    const challenge = authz.challenges?.find((c) => c.type === 'http-01');
    if (!challenge) throw new AcmeError(`no http-01 challenge offered for ${name}${authz.wildcard ? ' (a wildcard name is proved by dns-01 only)' : ''}`);
    if (!challenge.token || !TOKEN.test(challenge.token)) throw new AcmeError(`the http-01 challenge for ${name} has no valid token`);
    const token = challenge.token;

    try {
      await responder.present(token, keyAuthorization(token, thumbprint));
      // §7.5.1: the client tells the server it is ready with an empty JSON object (once: a
      // challenge already processing is only waited for).
      if (challenge.status === 'pending') await this.post(new URL(challenge.url, url).href, {}, undefined, `challenge for ${name}`);
      const final = await this.poll<Authorization>(url, (a) => a.status !== 'pending', `authorization for ${name}`);
      if (final.status !== 'valid') {
        const problem = final.challenges?.find((c) => c.type === 'http-01')?.error ?? final.challenges?.find((c) => c.error)?.error;
        throw new AcmeError(`authorization for ${name} ${final.status}: ${describeProblem(problem)}`, problem);
      }
    } finally {
      // A failure to remove is not the order's: a stale response for a used token is harmless.
      await responder.remove(token).catch(() => undefined);
    }
  }

  /**
   * The certificate chain (RFC 8555 §7.4.2), and with a preferred issuer the alternates of its
   * Link rel="alternate" headers until one's topmost certificate was issued by it; the default
   * chain when none was.
   */
  private async downloadChain(url: string, preferredIssuer: string | undefined): Promise<Array<{ pem: string; cert: X509Certificate }>> {
    const fetchChain = async (at: string) => {
      const res = await this.post(at, '', undefined, 'certificate', 'application/pem-certificate-chain');
      return { chain: parseChain(res.body.toString('utf8'), at), alternates: links(res.headers, 'alternate').map((l) => new URL(l, at).href) };
    };
    const first = await fetchChain(url);
    if (preferredIssuer === undefined || topIssuerCn(first.chain) === preferredIssuer) return first.chain;
    for (const alternate of first.alternates) {
      const { chain } = await fetchChain(alternate);
      if (topIssuerCn(chain) === preferredIssuer) return chain;
    }
    return first.chain;
  }

  /** POST-as-GET `url` until `done` holds for the resource, or the poll timeout passes. */
  private async poll<T extends { status: string }>(url: string, done: (t: T) => boolean, what: string): Promise<T> {
    const deadline = Date.now() + this.pollTimeoutMs;
    let backoff = POLL_FIRST_MS;
    for (;;) {
      const res = await this.post(url, '', undefined, what);
      const resource = json<T>(res, what);
      if (done(resource)) return resource;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new AcmeError(`${what} still ${resource.status} after ${this.pollTimeoutMs} ms`);
      const asked = retryAfterMs(header(res.headers, 'retry-after'));
      const wait = asked === undefined ? backoff : Math.min(Math.max(asked, POLL_FIRST_MS), RETRY_AFTER_CAP_MS);
      backoff = Math.min(backoff * 2, POLL_MAX_MS);
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait, remaining)));
    }
  }

  private directory(): Promise<Directory> {
    this.directoryLoad ??= (async () => {
      const res = await this.send('GET', this.directoryUrl);
      if (res.status !== 200) throw new AcmeError(`the directory ${this.directoryUrl} answered ${res.status}`, problemOf(res));
      const dir = json<Directory>(res, 'the directory');
      for (const k of ['newNonce', 'newAccount', 'newOrder'] as const) {
        if (typeof dir[k] !== 'string') throw new AcmeError(`the directory ${this.directoryUrl} has no ${k} URL`);
        dir[k] = new URL(dir[k], res.url).href;
      }
      return dir;
    })();
    // A failed load is tried again on the next call rather than remembered.
    this.directoryLoad.catch(() => { this.directoryLoad = undefined; });
    return this.directoryLoad;
  }

  private async nonce(): Promise<string> {
    const kept = this.nonces.pop();
    if (kept) return kept;
    const dir = await this.directory();
    const res = await this.send('HEAD', dir.newNonce);
    const nonce = header(res.headers, 'replay-nonce');
    if (res.status >= 400 || !nonce) throw new AcmeError(`newNonce answered ${res.status}${nonce ? '' : ' without a Replay-Nonce'}`, problemOf(res));
    return nonce;
  }

  private keepNonce(res: Response): void {
    const nonce = header(res.headers, 'replay-nonce');
    if (!nonce) return;
    this.nonces.push(nonce);
    if (this.nonces.length > MAX_NONCES) this.nonces.shift();
  }

  /**
   * A signed POST (JSON payload, or '' for POST-as-GET), by the account's kid unless `ref` says
   * otherwise. A badNonce rejection is retried with a fresh nonce (RFC 8555 §6.5); any other
   * error status throws with the server's problem.
   */
  private async post(url: string, payload: unknown | '', ref: KeyRef | undefined, what: string, accept = 'application/json'): Promise<Response> {
    const keyRef = ref ?? (this.kid ? { kid: this.kid } : undefined);
    if (!keyRef) throw new AcmeError('no ACME account: call account() first');
    for (let attempt = 0; ; attempt++) {
      const jws = signJws(this.accountKey, keyRef, await this.nonce(), url, payload);
      const res = await this.send('POST', url, JSON.stringify(jws), accept);
      this.keepNonce(res);
      if (res.status < 400) return res;
      const problem = problemOf(res);
      if (problem?.type === `${PROBLEM_PREFIX}badNonce` && attempt < BAD_NONCE_RETRIES) continue;
      throw new AcmeError(`${what} answered ${res.status}: ${describeProblem(problem)}`, problem);
    }
  }

  /** One HTTP exchange: a timeout over the whole of it, the body bounded by MAX_RESPONSE_BYTES. */
  private send(method: 'GET' | 'HEAD' | 'POST', url: string, body?: string, accept = 'application/json'): Promise<Response> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.reject(new AcmeError(`not a URL: ${url}`));
    }
    if (target.protocol !== 'https:' && target.protocol !== 'http:') return Promise.reject(new AcmeError(`not an http or https URL: ${url}`));
    const headers: OutgoingHttpHeaders = { 'user-agent': USER_AGENT, accept };
    if (body !== undefined) {
      headers['content-type'] = 'application/jose+json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const options: https.RequestOptions & Pick<tls.ConnectionOptions, 'secureContext'> = { method, headers, agent: false };
    if (target.protocol === 'https:' && this.secureContext) options.secureContext = this.secureContext;
    const transport = target.protocol === 'https:' ? https : http;
    return new Promise<Response>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(err instanceof AcmeError ? err : new AcmeError(`${method} ${url} failed: ${err.message}`, undefined, { cause: err }));
      };
      const req = transport.request(target, options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) fail(new AcmeError(`${method} ${url}: the response is larger than ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), url: target.href });
        });
        res.on('close', () => fail(new Error('the connection closed before the response ended')));
      });
      const timer = setTimeout(() => fail(new AcmeError(`${method} ${url} timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
      req.on('error', fail);
      req.end(body);
    });
  }
}

// ---- helpers --------------------------------------------------------------------------

function wrap(context: string, err: unknown): AcmeError {
  if (err instanceof AcmeError) return new AcmeError(`${context}: ${err.message}`, err.problem, { cause: err });
  return new AcmeError(`${context}: ${err instanceof Error ? err.message : String(err)}`, undefined, { cause: err });
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function json<T>(res: Response, what: string): T {
  try {
    const parsed: unknown = JSON.parse(res.body.toString('utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as T;
  } catch (err) {
    throw new AcmeError(`${what} (${res.url}) answered ${res.status} with a body that is not a JSON object: ${(err as Error).message}`);
  }
}

/** The problem document of an error response (RFC 7807), or what can be said without one. */
function problemOf(res: Response): AcmeProblem | undefined {
  try {
    const parsed = JSON.parse(res.body.toString('utf8')) as AcmeProblem;
    if (parsed && typeof parsed === 'object') return parsed;
  } catch {
    // not a problem document: the status alone is reported
  }
  return undefined;
}

/** "<detail> (<type without the ACME prefix>)", with the subproblems' identifiers and details (RFC 8555 §6.7.1). */
function describeProblem(problem: AcmeProblem | undefined): string {
  if (!problem) return 'no problem document';
  const type = typeof problem.type === 'string' ? problem.type.replace(PROBLEM_PREFIX, '') : undefined;
  let text = `${typeof problem.detail === 'string' && problem.detail ? problem.detail : 'no detail'}${type ? ` (${type})` : ''}`;
  if (Array.isArray(problem.subproblems)) {
    const subs = problem.subproblems.map((s) => {
      const sub = s as AcmeProblem & { identifier?: Identifier };
      return `${sub.identifier?.value ?? '?'}: ${sub.detail ?? sub.type ?? 'no detail'}`;
    });
    if (subs.length > 0) text += `; ${subs.join('; ')}`;
  }
  return text;
}

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
function retryAfterMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** The targets of the Link header's entries with relation `rel` (RFC 8288; Node joins repeated headers with ", "). */
function links(headers: IncomingHttpHeaders, rel: string): string[] {
  const raw = headers.link;
  const value = Array.isArray(raw) ? raw.join(', ') : raw ?? '';
  const out: string[] = [];
  for (const m of value.matchAll(/<([^>]*)>([^<]*)/g)) {
    const rels = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(m[2] ?? '');
    const list = (rels?.[1] ?? rels?.[2] ?? '').toLowerCase().split(/\s+/);
    if (list.includes(rel)) out.push(m[1]!);
  }
  return out;
}

function parseChain(text: string, url: string): Array<{ pem: string; cert: X509Certificate }> {
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) throw new AcmeError(`the certificate download ${url} holds no PEM certificate`);
  return pems.map((pem) => {
    try {
      return { pem: `${pem}\n`, cert: new X509Certificate(pem) };
    } catch (err) {
      throw new AcmeError(`the certificate download ${url} holds a certificate that cannot be read: ${(err as Error).message}`);
    }
  });
}

/** The common name of the issuer of the chain's last certificate. */
function topIssuerCn(chain: Array<{ cert: X509Certificate }>): string | undefined {
  return commonName(chain[chain.length - 1]!.cert.issuer);
}

/** CN of a name as X509Certificate prints it (one "KEY=value" per line). */
function commonName(name: string): string | undefined {
  for (const line of name.split('\n')) {
    if (line.startsWith('CN=')) return line.slice(3);
  }
  return undefined;
}
