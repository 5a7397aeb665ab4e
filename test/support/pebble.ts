/**
 * Pebble (github.com/letsencrypt/pebble), Let's Encrypt's small ACME test server, for tests of
 * the ACME client: the binary from $PEBBLE_BIN, or .cache/test-bin/pebble, or built there once
 * with `go install`; each server started on free loopback ports with a config of its own
 * (its HTTPS certificate made fresh for 127.0.0.1), validating http-01 on `httpPort` of the
 * address `dnsServer` gives for a name. Ready when its directory answers; always stopped by the
 * test that started it (and killed, its directory removed, if the test process exits first).
 *
 * Pebble's test-friendly switches (its README): PEBBLE_VA_NOSLEEP=1 validates at once rather
 * than after a random sleep of up to 15 s; PEBBLE_WFE_NONCEREJECT=0 stops it rejecting 5% of
 * good nonces (the client's badNonce retry is then tested by choice, not by chance);
 * PEBBLE_AUTHZREUSE sets how often a valid authorization is reused for a new order (50% by
 * default; 0 here unless asked, so that each order is proved); PEBBLE_ALTERNATE_ROOTS adds root
 * hierarchies, each certificate then downloadable by a Link rel="alternate" chain per root.
 */
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { PROJECT_ROOT } from '../../src/project-root.js';
import { selfSignedCert } from './certs.js';
import { startDnsStub, type DnsStub } from './dns-stub.js';
import { freePort } from './ports.js';
import { startRedisServer, type RedisServer } from './redis-server.js';
import { runAsync, spawnServer } from './spawn.js';
import { waitFor } from './wait.js';

export const PEBBLE_MODULE = 'github.com/letsencrypt/pebble/v2/cmd/pebble@v2.10.3';

export interface PebbleOptions {
  /** The port Pebble's VA connects to for http-01 (on the address the DNS server gives). */
  httpPort: number;
  /** host:port of the DNS server the VA asks (e.g. startDnsStub's address). */
  dnsServer: string;
  /** kid → base64url HMAC key: sets externalAccountBindingRequired. */
  eab?: Record<string, string>;
  /** PEBBLE_ALTERNATE_ROOTS: root hierarchies beyond the first. */
  alternateRoots?: number;
  /** PEBBLE_AUTHZREUSE: percent of new orders that reuse a valid authorization. Default 0. */
  authzReuse?: number;
  /** Give up waiting for readiness after this long. Default 10 s. */
  readyTimeoutMs?: number;
}

export interface Pebble {
  /** https://127.0.0.1:<port>/dir */
  readonly directoryUrl: string;
  /** PEM of Pebble's own HTTPS certificate (self-signed): trust it for the ACME API. */
  readonly ca: string;
  /** PEM of the issuing roots from the management API, /roots/0 to /roots/<alternateRoots>. */
  roots(): Promise<string[]>;
  /** Stops it and removes its directory. */
  stop(): Promise<void>;
}

/** Each HTTPS probe or management request, and each wait for Pebble to exit. */
const REQUEST_TIMEOUT_MS = 2_000;
const BUILD_TIMEOUT_MS = 5 * 60_000;

const dirs = new Set<string>();
process.on('exit', () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

let built: Promise<string> | undefined;

/**
 * The pebble binary: $PEBBLE_BIN if set, else <repo>/.cache/test-bin/pebble if present, else
 * built with `go install` into a temporary GOBIN under .cache and renamed into place (a rename
 * is atomic: another test process building at the same time cannot see half a binary).
 */
export function ensurePebble(): Promise<string> {
  if (process.env.PEBBLE_BIN) return Promise.resolve(process.env.PEBBLE_BIN);
  const binDir = join(PROJECT_ROOT, '.cache', 'test-bin');
  const bin = join(binDir, 'pebble');
  if (existsSync(bin)) return Promise.resolve(bin);
  built ??= (async () => {
    const go = findGo();
    mkdirSync(binDir, { recursive: true });
    const gobin = mkdtempSync(join(PROJECT_ROOT, '.cache', 'pebble-build-'));
    try {
      const ran = await runAsync(go, ['install', PEBBLE_MODULE], { ...process.env, GOBIN: gobin, CGO_ENABLED: '0' }, BUILD_TIMEOUT_MS);
      if (ran.status !== 0) throw new Error(`go install ${PEBBLE_MODULE} failed (${ran.status ?? 'timed out'}):\n${ran.stderr.slice(-4_000)}`);
      renameSync(join(gobin, 'pebble'), bin);
      return bin;
    } finally {
      rmSync(gobin, { recursive: true, force: true });
    }
  })();
  built.catch(() => { built = undefined; });
  return built;
}

/** go on PATH, else /usr/local/go/bin/go (the official tarball's place). */
function findGo(): string {
  const candidates = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'go')), '/usr/local/go/bin/go'];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not there
    }
  }
  throw new Error(`no pebble binary: set PEBBLE_BIN, or install Go (looked for go on PATH and at /usr/local/go/bin/go) to build ${PEBBLE_MODULE}`);
}

/** Starts a Pebble on free loopback ports and resolves once its directory answers. */
export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  const bin = await ensurePebble();
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const [port, managementPort, tlsPort] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-pebble-'));
  dirs.add(dir);
  const cleanup = () => {
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
  };

  let ca: string;
  const config = join(dir, 'pebble-config.json');
  try {
    const { cert, key } = selfSignedCert(['127.0.0.1', 'localhost']);
    writeFileSync(join(dir, 'cert.pem'), cert);
    writeFileSync(join(dir, 'key.pem'), key);
    ca = cert;
    writeFileSync(config, JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${port}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: join(dir, 'cert.pem'),
        privateKey: join(dir, 'key.pem'),
        httpPort: options.httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: options.eab !== undefined,
        externalAccountMACKeys: options.eab ?? {},
      },
    }, null, 2));
    writeFileSync(join(dir, 'key.pem'), key, { mode: 0o600 });
  } catch (err) {
    cleanup();
    throw err;
  }

  // spawnServer passes its own environment on; `env` sets Pebble's switches and execs it
  // (the same process, so its signals reach Pebble).
  const env = [
    'PEBBLE_VA_NOSLEEP=1',
    'PEBBLE_WFE_NONCEREJECT=0',
    `PEBBLE_AUTHZREUSE=${options.authzReuse ?? 0}`,
    `PEBBLE_ALTERNATE_ROOTS=${options.alternateRoots ?? 0}`,
  ];
  const server = spawnServer('env', [...env, bin, '-config', config, '-dnsserver', options.dnsServer], 'pebble');
  const directoryUrl = `https://127.0.0.1:${port}/dir`;
  try {
    // The check returns the failure (truthy) to end the wait early; waitFor would retry a throw.
    const outcome = await waitFor(async () => server.failure() ?? (await get(directoryUrl, ca)).status === 200, `pebble's directory at ${directoryUrl}`, readyTimeoutMs, 25);
    if (outcome instanceof Error) throw outcome;
  } catch (err) {
    await stopProcess(server.proc);
    cleanup();
    throw err === server.failure() ? err : new Error(`${(err as Error).message}\npebble output:\n${server.output()}`);
  }

  return {
    directoryUrl,
    ca,
    async roots() {
      const out: string[] = [];
      for (let i = 0; i <= (options.alternateRoots ?? 0); i++) {
        const res = await get(`https://127.0.0.1:${managementPort}/roots/${i}`, ca);
        if (res.status !== 200) throw new Error(`pebble's /roots/${i} answered ${res.status}`);
        out.push(res.body);
      }
      return out;
    },
    async stop() {
      await stopProcess(server.proc);
      cleanup();
    },
  };
}

/** A GET over HTTPS trusting `ca`; its status and body as text. (Pebble answers 400 to a request without a User-Agent.) */
function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, agent: false, timeout: REQUEST_TIMEOUT_MS, headers: { 'user-agent': 'frontdesk-tests' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/** SIGTERMs `proc` and waits for it to exit; one that does not within REQUEST_TIMEOUT_MS is SIGKILLed. */
async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const within = (ms: number) => Promise.race([gone.then(() => true), new Promise<boolean>((r) => setTimeout(r, ms, false).unref())]);
  proc.kill('SIGTERM');
  if (await within(REQUEST_TIMEOUT_MS)) return;
  proc.kill('SIGKILL');
  await gone;
}

/** What an acme test runs against: a DNS stub answering 127.0.0.1, Redis, and Pebble validating on `httpPort`. */
export interface AcmeTestBed {
  dns: DnsStub;
  redis: RedisServer;
  pebble: Pebble;
  /** Pebble's issuing roots (PEM), to verify what is served. */
  roots: string[];
  stop(): Promise<void>;
}

export async function startAcmeTestBed(httpPort: number): Promise<AcmeTestBed> {
  const dns = await startDnsStub();
  const redis = await startRedisServer();
  const pebble = await startPebble({ httpPort, dnsServer: dns.address });
  return {
    dns, redis, pebble, roots: await pebble.roots(),
    async stop() {
      await pebble.stop();
      await redis.stop();
      await dns.close();
    },
  };
}
