/**
 * A real OpenLDAP slapd (Debian's package, /usr/sbin/slapd or SLAPD_BIN) for tests of LDAP
 * authentication: a throwaway directory (mdb backend, in a temp dir) holding
 * ou=people,dc=example,dc=com and one inetOrgPerson per user, loaded with slapadd before the first
 * start. Listens on a free loopback port (plain ldap://, with StartTLS when a certificate is
 * given) and, with TLS, on a second port for ldaps://. Ready when a user can bind; always stopped
 * by the test that started it (and killed, its directory removed, if the test process exits first).
 *
 * slapd is run with `-d none`: that keeps it in the foreground and sends its messages that have no
 * debug level (startup and config errors, "slapd starting") to stderr. `-d 0` would keep it in the
 * foreground too, but silent: its errors would only go to syslog.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { freePort } from './ports.js';
import { spawnServer } from './spawn.js';
import { waitFor } from './wait.js';

export interface LdapUser {
  uid: string;
  password: string;
}

export interface LdapServerOptions {
  users: LdapUser[];
  /** With TLS: StartTLS offered on `port`, and LDAPS on `ldapsPort`. PEM cert and key for the server (e.g. from selfSignedCert(['localhost','127.0.0.1'])). */
  tls?: { cert: string; key: string };
  /** Give up waiting for readiness after this long. Default 10 s. */
  readyTimeoutMs?: number;
}

export interface LdapServer {
  /** ldap:// on 127.0.0.1. */
  readonly port: number;
  /** ldaps:// on 127.0.0.1, only with tls. */
  readonly ldapsPort?: number;
  /** 'ou=people,dc=example,dc=com': each user is uid=<uid>,ou=people,dc=example,dc=com (objectClass inetOrgPerson, cn and sn = uid). */
  readonly baseDn: string;
  /** Changes a user's password on the running server (ldapmodify as the root DN). */
  setPassword(uid: string, password: string): Promise<void>;
  /** SIGKILLs slapd (an outage) and waits for it to exit; the data directory is kept. */
  kill(): Promise<void>;
  /** Starts it again on the same port(s) and waits until ready. */
  restart(): Promise<void>;
  /** Stops it for good and removes its directory. */
  stop(): Promise<void>;
}

const SLAPD_BIN = process.env.SLAPD_BIN ?? '/usr/sbin/slapd';
const SLAPADD_BIN = process.env.SLAPADD_BIN ?? '/usr/sbin/slapadd';
const SUFFIX = 'dc=example,dc=com';
const BASE_DN = `ou=people,${SUFFIX}`;
const ROOT_DN = `cn=admin,${SUFFIX}`;
const SCHEMAS = ['core', 'cosine', 'inetorgperson'];
/** Each run of slapadd, ldapwhoami or ldapmodify, and each wait for slapd to exit. */
const TOOL_TIMEOUT_MS = 5_000;
/** One readiness probe (a bind, a TLS handshake): short, as it is retried until the ready timeout. */
const PROBE_TIMEOUT_MS = 2_000;
/** A uid goes into DNs and LDIF unescaped, so only plain ones are accepted. */
const PLAIN_UID = /^[A-Za-z0-9._-]+$/;

const dirs = new Set<string>();
process.on('exit', () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Starts a slapd holding `options.users` on free port(s) and resolves once the first user can bind. */
export async function startLdapServer(options: LdapServerOptions): Promise<LdapServer> {
  for (const { uid } of options.users) {
    if (!PLAIN_UID.test(uid)) throw new Error(`ldap-server: uid ${JSON.stringify(uid)} is not plain (letters, digits, . _ -)`);
  }
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const port = await freePort();
  const ldapsPort = options.tls ? await freePort() : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-ldap-'));
  dirs.add(dir);
  const rootPassword = randomBytes(12).toString('hex');
  const conf = join(dir, 'slapd.conf');

  let child: ChildProcess | undefined;
  const exit = async (signal: NodeJS.Signals) => {
    const proc = child;
    child = undefined;
    if (!proc) return;
    await stopProcess(proc, signal);
  };

  try {
    mkdirSync(join(dir, 'db'));
    if (options.tls) {
      writeFileSync(join(dir, 'cert.pem'), options.tls.cert);
      writeFileSync(join(dir, 'key.pem'), options.tls.key, { mode: 0o600 });
    }
    writeFileSync(conf, slapdConf(dir, rootPassword, options.tls !== undefined));
    writeFileSync(join(dir, 'data.ldif'), entriesLdif(options.users));
    const added = await run(SLAPADD_BIN, ['-f', conf, '-l', join(dir, 'data.ldif')]);
    if (added.status !== 0) throw new Error(`slapadd failed (${added.status ?? 'timed out'}):\n${added.output}`);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
    throw err;
  }

  const urls = [`ldap://127.0.0.1:${port}/`, ...(ldapsPort ? [`ldaps://127.0.0.1:${ldapsPort}/`] : [])];
  const args = ['-f', conf, '-h', urls.join(' '), '-d', 'none'];
  // Readiness: a bind on the plain port succeeds (the first user's, or an anonymous one when
  // there are no users): the database is open and the data in place. (A bare TCP connect proves
  // little: slapd listens before it has read its config, and the kernel accepts meanwhile.) With
  // TLS, a TLS handshake on the LDAPS port must complete too. A failed probe throws, so that the
  // last failure's reason ends up in the timeout's message. `first` holds the first user's
  // current password: setPassword may have changed it before a restart.
  const first = options.users[0] && { ...options.users[0] };
  const ready = async () => {
    const whoami = ['-x', '-H', `ldap://127.0.0.1:${port}`, ...(first ? ['-D', userDn(first.uid), '-w', first.password] : [])];
    const bound = await run('ldapwhoami', whoami, { timeoutMs: PROBE_TIMEOUT_MS });
    if (bound.status !== 0) throw new Error(`ldapwhoami: ${bound.status ?? 'timed out'}: ${bound.output.trim()}`);
    if (ldapsPort !== undefined) await tlsHandshake(ldapsPort);
    return true;
  };

  const launch = async () => {
    const server = spawnServer(SLAPD_BIN, args, 'slapd');
    child = server.proc;
    try {
      // The check returns the failure (truthy) to end the wait early; waitFor would retry a throw.
      const outcome = await waitFor(async () => server.failure() ?? (await ready()), `slapd on ${urls.join(' ')} to accept a bind`, readyTimeoutMs, 25);
      if (outcome instanceof Error) throw outcome;
    } catch (err) {
      await exit('SIGKILL');
      throw err === server.failure() ? err : new Error(`${(err as Error).message}\nslapd output:\n${server.output()}`);
    }
  };

  try {
    await launch();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
    throw err;
  }

  return {
    port,
    ldapsPort,
    baseDn: BASE_DN,
    async setPassword(uid: string, password: string) {
      if (!PLAIN_UID.test(uid)) throw new Error(`ldap-server: uid ${JSON.stringify(uid)} is not plain`);
      const ldif = `dn: ${userDn(uid)}\nchangetype: modify\nreplace: userPassword\nuserPassword: ${ssha(password)}\n`;
      const ran = await run('ldapmodify', ['-x', '-H', `ldap://127.0.0.1:${port}`, '-D', ROOT_DN, '-w', rootPassword], { input: ldif });
      if (ran.status !== 0) throw new Error(`ldapmodify of ${userDn(uid)} failed (${ran.status ?? 'timed out'}):\n${ran.output}`);
      if (first?.uid === uid) first.password = password;
    },
    kill: () => exit('SIGKILL'),
    async restart() {
      await exit('SIGKILL');
      await launch();
    },
    async stop() {
      await exit('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
}

function userDn(uid: string): string {
  return `uid=${uid},${BASE_DN}`;
}

/** The {SSHA} form of a password slapd checks binds against: base64(sha1(password + salt) + salt). */
function ssha(password: string): string {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password, 'utf8').update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

function slapdConf(dir: string, rootPassword: string, tls: boolean): string {
  return [
    ...SCHEMAS.map((s) => `include /etc/ldap/schema/${s}.schema`),
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    ...(tls ? [`TLSCertificateFile ${join(dir, 'cert.pem')}`, `TLSCertificateKeyFile ${join(dir, 'key.pem')}`] : []),
    'database mdb',
    // The map mdb reserves (sparse, but a cap on the data): plenty for a few entries.
    'maxsize 10485760',
    `suffix "${SUFFIX}"`,
    `rootdn "${ROOT_DN}"`,
    `rootpw ${ssha(rootPassword)}`,
    `directory ${join(dir, 'db')}`,
    // As a real directory would: passwords are for binding (and their owner), the rest is readable.
    'access to attrs=userPassword by self write by anonymous auth by * none',
    'access to * by * read',
    '',
  ].join('\n');
}

function entriesLdif(users: LdapUser[]): string {
  const entries = [
    `dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: example\n`,
    `dn: ${BASE_DN}\nobjectClass: organizationalUnit\nou: people\n`,
    ...users.map(({ uid, password }) =>
      `dn: ${userDn(uid)}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: ${uid}\nsn: ${uid}\nuserPassword: ${ssha(password)}\n`),
  ];
  return entries.join('\n');
}

/** Completes a TLS handshake with 127.0.0.1:`port` (any certificate) and closes; rejects within PROBE_TIMEOUT_MS otherwise. */
function tlsHandshake(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    socket.setTimeout(PROBE_TIMEOUT_MS, () => socket.destroy(new Error(`TLS handshake on port ${port} timed out`)));
    socket.once('secureConnect', () => {
      socket.end();
      resolve();
    });
    socket.once('error', (err) => reject(new Error(`TLS handshake on port ${port}: ${err.message}`)));
  });
}

/**
 * Runs a tool to its end (killed after `timeoutMs`, then status null), `input` on its stdin;
 * its stdout and stderr together. LDAPNOINIT keeps ldap.conf and LDAP* variables out of it.
 */
function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const proc = spawn(cmd, args, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, LDAPNOINIT: '1' },
      timeout: opts.timeoutMs ?? TOOL_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4_000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    proc.once('error', (err) => resolve({ status: null, output: `cannot run ${cmd}: ${err.message}` }));
    proc.once('close', (status) => resolve({ status, output }));
    proc.stdin?.end(opts.input);
  });
}

/** Signals `proc` and waits for it to exit; a SIGTERM not obeyed within TOOL_TIMEOUT_MS becomes a SIGKILL. */
async function stopProcess(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  // No pid: it never started (the spawn 'error'), so there is nothing to wait for.
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const within = (ms: number) => Promise.race([gone.then(() => true), new Promise<boolean>((r) => setTimeout(r, ms, false).unref())]);
  proc.kill(signal);
  if (await within(TOOL_TIMEOUT_MS)) return;
  proc.kill('SIGKILL');
  if (!(await within(TOOL_TIMEOUT_MS))) throw new Error(`slapd (pid ${proc.pid}) did not exit after SIGKILL`);
}
