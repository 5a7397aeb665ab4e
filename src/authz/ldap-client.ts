/**
 * The LDAP simple bind Kong's ldap-auth makes (RFC 4511), over a pool of kept-alive connections:
 * plain, LDAPS (TLS from the first byte) or StartTLS (the extended operation, then TLS on the same
 * socket). Only what a bind needs is encoded: BindRequest and the StartTLS ExtendedRequest, and
 * their LDAPResult answers. Every step has the plugin's timeout; an answer larger than
 * MAX_MESSAGE_BYTES, a malformed one, or a connection that closes mid-operation is an error, never
 * a verdict. A connection binds one request at a time (a bind must be the only operation in
 * flight on its connection) and goes back to the pool after it.
 */
import net from 'node:net';
import tls from 'node:tls';

/** Where and how to connect (Kong's ldap_host, ldap_port, ldaps, start_tls, verify_ldap_host, timeout, keepalive). */
export interface LdapEndpoint {
  host: string;
  port: number;
  ldaps: boolean;
  startTls: boolean;
  /** Check the server's certificate chain and name (Kong's verify_ldap_host). */
  verify: boolean;
  /** Milliseconds for each of connect, TLS handshake and each operation's answer. */
  timeoutMs: number;
  /** Milliseconds an idle connection is kept for the next bind; 0 keeps it until the server closes it. */
  keepaliveMs: number;
}

/** A bind that could not be decided (connection, TLS, protocol, or a result code that is the server's trouble, not the credential's). */
export class LdapError extends Error {
  /**
   * `closed`: the connection ended before the answer (a kept connection the server dropped while
   * idle is retried once on a new one); `result`: the server answered a result code that is its
   * own trouble (resultCode says which).
   */
  constructor(message: string, readonly kind: 'closed' | 'timeout' | 'protocol' | 'result' | 'connect' = 'protocol', readonly resultCode?: number) {
    super(message);
    this.name = 'LdapError';
  }
}

/** An LDAP answer larger than this is refused (a bind's answer is tens of bytes). */
const MAX_MESSAGE_BYTES = 64 * 1024;
/** Idle connections kept per endpoint (nginx's default lua_socket_pool_size is 30). */
const MAX_IDLE_PER_ENDPOINT = 30;
const STARTTLS_OID = '1.3.6.1.4.1.1466.20037';

/** RFC 4511 result codes that are the credential's refusal; any other non-zero code is an error. */
const REFUSED: ReadonlySet<number> = new Set([
  19, // constraintViolation (a password policy's lockout)
  32, // noSuchObject (no such user)
  34, // invalidDNSyntax
  48, // inappropriateAuthentication
  49, // invalidCredentials
  50, // insufficientAccessRights
  53, // unwillingToPerform (a disabled account)
]);

// ---- BER, the part of it LDAP's bind uses ----

function berLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), berLength(value.length), value]);
}

function berInteger(tag: number, n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(tag, Buffer.from(bytes));
}

/** LDAPMessage { messageID, protocolOp }. */
function ldapMessage(id: number, op: Buffer): Buffer {
  return tlv(0x30, Buffer.concat([berInteger(0x02, id), op]));
}

/** BindRequest [APPLICATION 0] { version 3, name, simple [0] password }. */
export function bindRequest(id: number, dn: string, password: string): Buffer {
  return ldapMessage(id, tlv(0x60, Buffer.concat([berInteger(0x02, 3), tlv(0x04, Buffer.from(dn, 'utf8')), tlv(0x80, Buffer.from(password, 'utf8'))])));
}

/** ExtendedRequest [APPLICATION 23] { requestName [0] StartTLS's OID }. */
export function startTlsRequest(id: number): Buffer {
  return ldapMessage(id, tlv(0x77, tlv(0x80, Buffer.from(STARTTLS_OID, 'latin1'))));
}

/** One decoded answer: its message id, the operation's tag, and its LDAPResult. */
export interface LdapResult {
  id: number;
  op: number;
  resultCode: number;
  diagnosticMessage: string;
}

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

/** The TLV at `at` within buf[..limit]; undefined when it is not all there yet. */
function readTlv(buf: Buffer, at: number, limit: number): Tlv | undefined {
  if (at + 2 > limit) return undefined;
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new LdapError('malformed LDAP message (length)');
    if (start + n > limit) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  if (start + len > limit) return undefined;
  return { tag, start, end: start + len };
}

function need(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new LdapError(`malformed LDAP message (${what})`);
  return t;
}

function intValue(buf: Buffer, t: Tlv): number {
  if (t.end - t.start < 1 || t.end - t.start > 4) throw new LdapError('malformed LDAP message (integer)');
  let v = 0;
  for (let i = t.start; i < t.end; i++) v = v * 256 + buf[i]!;
  return v;
}

/**
 * The first whole LDAPMessage in `buf`, decoded as an LDAPResult, and the bytes it took; undefined
 * while it is incomplete. Throws on anything that is not an LDAPMessage, or one over the size limit.
 */
export function readResult(buf: Buffer): { result: LdapResult; used: number } | undefined {
  if (buf.length === 0) return undefined;
  if (buf[0] !== 0x30) throw new LdapError('malformed LDAP message (not a SEQUENCE)');
  const head = readTlv(buf, 0, Math.min(buf.length, MAX_MESSAGE_BYTES + 6));
  if (!head) {
    if (buf.length > MAX_MESSAGE_BYTES) throw new LdapError(`LDAP message over ${MAX_MESSAGE_BYTES} bytes`);
    return undefined;
  }
  const id = need(readTlv(buf, head.start, head.end), 0x02, 'messageID');
  const op = readTlv(buf, id.end, head.end);
  if (!op || (op.tag & 0xe0) !== 0x60) throw new LdapError('malformed LDAP message (protocolOp)');
  const code = need(readTlv(buf, op.start, op.end), 0x0a, 'resultCode');
  const matched = need(readTlv(buf, code.end, op.end), 0x04, 'matchedDN');
  const diag = need(readTlv(buf, matched.end, op.end), 0x04, 'diagnosticMessage');
  return {
    result: { id: intValue(buf, id), op: op.tag, resultCode: intValue(buf, code), diagnosticMessage: buf.toString('utf8', diag.start, diag.end) },
    used: head.end,
  };
}

/**
 * A user's DN as Kong builds it (`attribute=username,base_dn`), with the username escaped as an
 * RDN value (RFC 4514): a username holding `,` `+` `=` or the like names that user, not another
 * entry (Kong concatenates it unescaped).
 */
export function userDn(attribute: string, username: string, baseDn: string): string {
  let v = username.replace(/[\\",+;<>=]/g, (c) => `\\${c}`).replace(/\0/g, '\\00');
  if (v.endsWith(' ')) v = `${v.slice(0, -1)}\\ `;
  if (v.startsWith(' ') || v.startsWith('#')) v = `\\${v}`;
  return `${attribute}=${v},${baseDn}`;
}

// ---- connections ----

type Socket = net.Socket | tls.TLSSocket;

/** One connection to an LDAP server: one operation at a time, each answered or timed out. */
class LdapConnection {
  private buffered: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private waiting?: { id: number; resolve: (r: LdapResult) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };
  private failure?: Error;
  idleTimer?: NodeJS.Timeout;

  private constructor(private socket: Socket, private readonly timeoutMs: number) {
    this.listen(socket);
  }

  get usable(): boolean {
    return this.failure === undefined && !this.socket.destroyed;
  }

  static async open(ep: LdapEndpoint, trustedCa?: readonly string[]): Promise<LdapConnection> {
    const tlsOptions = (): tls.ConnectionOptions => ({
      rejectUnauthorized: ep.verify,
      ...(net.isIP(ep.host) ? {} : { servername: ep.host }),
      ...(trustedCa?.length ? { ca: [...tls.rootCertificates, ...trustedCa] } : {}),
    });
    const raw = ep.ldaps
      ? tls.connect({ host: ep.host, port: ep.port, ...tlsOptions() })
      : net.connect({ host: ep.host, port: ep.port });
    await settle(raw, ep.ldaps ? 'secureConnect' : 'connect', ep.timeoutMs, `connect to ${ep.host}:${ep.port}`);
    raw.setNoDelay(true);
    const conn = new LdapConnection(raw, ep.timeoutMs);
    if (ep.startTls) {
      const startId = conn.nextId++;
    const answer = await conn.send(startId, startTlsRequest(startId));
      if (answer.op !== 0x78 || answer.resultCode !== 0) {
        conn.close();
        throw new LdapError(`StartTLS refused by ${ep.host}:${ep.port} (result ${answer.resultCode}${answer.diagnosticMessage ? `: ${answer.diagnosticMessage}` : ''})`, 'result', answer.resultCode);
      }
      conn.unlisten(raw);
      const secure = tls.connect({ socket: raw, ...tlsOptions() });
      try {
        await settle(secure, 'secureConnect', ep.timeoutMs, `TLS handshake with ${ep.host}:${ep.port}`);
      } catch (e) {
        raw.destroy();
        throw e;
      }
      conn.socket = secure;
      conn.listen(secure);
    }
    return conn;
  }

  /** Binds as `dn`: true when the server accepts the password, false when it refuses the credential. */
  async bind(dn: string, password: string): Promise<boolean> {
    const id = this.nextId++;
    const answer = await this.send(id, bindRequest(id, dn, password));
    if (answer.op !== 0x61) throw new LdapError(`unexpected LDAP answer to a bind (tag ${answer.op})`);
    if (answer.resultCode === 0) return true;
    if (REFUSED.has(answer.resultCode)) return false;
    throw new LdapError(`bind answered result ${answer.resultCode}${answer.diagnosticMessage ? ` (${answer.diagnosticMessage})` : ''}`, 'result', answer.resultCode);
  }

  close(): void {
    clearTimeout(this.idleTimer);
    this.fail(new LdapError('connection closed', 'closed'));
    this.socket.destroy();
  }

  /** Keeps the process alive for this connection only while it is in use. */
  inUse(on: boolean): void {
    if (on) this.socket.ref();
    else this.socket.unref();
  }

  private send(id: number, message: Buffer): Promise<LdapResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiting) return Promise.reject(new LdapError('an LDAP operation is already in flight on this connection'));
    return new Promise<LdapResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        const e = new LdapError(`no LDAP answer within ${this.timeoutMs} ms`, 'timeout');
        this.fail(e);
        this.socket.destroy();
      }, this.timeoutMs);
      this.waiting = { id, resolve, reject, timer };
      this.socket.write(message);
    });
  }

  private readonly onData = (chunk: Buffer) => {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    try {
      for (;;) {
        const got = readResult(this.buffered);
        if (!got) return;
        this.buffered = this.buffered.subarray(got.used);
        const w = this.waiting;
        // Message id 0 is the server's Notice of Disconnection (RFC 4511 4.4.1): it is closing.
        if (got.result.id === 0) throw new LdapError(`the server is closing the connection${got.result.diagnosticMessage ? `: ${got.result.diagnosticMessage}` : ''}`, 'closed');
        if (!w || got.result.id !== w.id) throw new LdapError(`unexpected LDAP message id ${got.result.id}`);
        this.waiting = undefined;
        clearTimeout(w.timer);
        w.resolve(got.result);
      }
    } catch (e) {
      this.fail(e as Error);
      this.socket.destroy();
    }
  };

  private readonly onClose = () => this.fail(new LdapError('the LDAP server closed the connection', 'closed'));
  private readonly onError = (e: Error) => this.fail(new LdapError(e.message, 'closed'));

  private listen(s: Socket): void {
    s.on('data', this.onData);
    s.on('close', this.onClose);
    s.on('error', this.onError);
  }

  private unlisten(s: Socket): void {
    s.off('data', this.onData);
    s.off('close', this.onClose);
    s.off('error', this.onError);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const w = this.waiting;
    this.waiting = undefined;
    if (w) {
      clearTimeout(w.timer);
      w.reject(e);
    }
  }
}

/** Resolves on `event`; rejects on error, close or the timeout (and destroys the socket then). */
function settle(s: Socket, event: 'connect' | 'secureConnect', timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (e?: Error) => {
      clearTimeout(timer);
      s.off(event, onOk);
      s.off('error', onErr);
      s.off('close', onClose);
      if (e) {
        s.destroy();
        reject(e);
      } else resolve();
    };
    const onOk = () => done();
    const onErr = (e: Error) => done(new LdapError(`${what}: ${e.message}`, 'connect'));
    const onClose = () => done(new LdapError(`${what}: connection closed`, 'connect'));
    const timer = setTimeout(() => done(new LdapError(`${what}: no answer within ${timeoutMs} ms`, 'timeout')), timeoutMs);
    s.once(event, onOk);
    s.once('error', onErr);
    s.once('close', onClose);
  });
}

/**
 * Binds over pooled connections, one pool per endpoint (host, port, TLS mode, verification): a
 * StartTLS connection is never reused as a plain one or the other way round.
 */
export class LdapBinder {
  private readonly idle = new Map<string, LdapConnection[]>();

  constructor(private readonly trustedCa?: readonly string[]) {}

  /** True when the server accepts `password` for `dn`, false when it refuses it; throws LdapError when it cannot tell. */
  async bind(ep: LdapEndpoint, dn: string, password: string): Promise<boolean> {
    // An empty password is an unauthenticated bind (RFC 4513 5.1.2), which servers may accept.
    if (password === '') return false;
    const key = `${ep.ldaps ? 'ldaps' : ep.startTls ? 'starttls' : 'ldap'}:${ep.verify ? 'verify' : 'any'}:${ep.host.toLowerCase()}:${ep.port}`;
    let conn = this.take(key);
    if (conn) {
      try {
        return this.keep(key, conn, ep, await conn.bind(dn, password));
      } catch (e) {
        // A kept connection the server closed while idle: once more on a new one.
        conn.close();
        if (!(e instanceof LdapError) || e.kind !== 'closed') throw e;
      }
    }
    conn = await LdapConnection.open(ep, this.trustedCa);
    try {
      return this.keep(key, conn, ep, await conn.bind(dn, password));
    } catch (e) {
      conn.close();
      throw e;
    }
  }

  /** Closes every idle connection. */
  close(): void {
    for (const list of this.idle.values()) for (const c of list) c.close();
    this.idle.clear();
  }

  private take(key: string): LdapConnection | undefined {
    const list = this.idle.get(key);
    for (let c = list?.pop(); c; c = list?.pop()) {
      clearTimeout(c.idleTimer);
      if (c.usable) {
        c.inUse(true);
        return c;
      }
      c.close();
    }
    return undefined;
  }

  private keep(key: string, conn: LdapConnection, ep: LdapEndpoint, verdict: boolean): boolean {
    const list = this.idle.get(key) ?? [];
    if (!conn.usable || list.length >= MAX_IDLE_PER_ENDPOINT) {
      conn.close();
      return verdict;
    }
    conn.inUse(false);
    list.push(conn);
    this.idle.set(key, list);
    if (ep.keepaliveMs > 0) {
      conn.idleTimer = setTimeout(() => {
        const at = list.indexOf(conn);
        if (at >= 0) list.splice(at, 1);
        conn.close();
      }, ep.keepaliveMs);
      conn.idleTimer.unref();
    }
    return verdict;
  }
}
