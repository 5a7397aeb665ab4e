import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';

/** A port a command is about to open, and the flag that moves it elsewhere. */
export interface PortClaim {
  host: string;
  port: number;
  /** What listens there, for the message: "the proxy", "the xDS server", ... */
  what: string;
  /** How a user moves it: `--proxy-port`, or words when it comes from the config. */
  remedy: string;
}

export interface PortProblem {
  claim: PortClaim;
  /** One line for a person. */
  message: string;
}

/**
 * Tries every claimed port before anything starts (a bind and an immediate close): a port in
 * use becomes one line naming the port, the process holding it when /proc says, and the flag
 * to pass. Port 0 (any free port) is never a problem. Two claims on one port are one too.
 */
export async function checkPorts(claims: PortClaim[]): Promise<PortProblem[]> {
  const problems: PortProblem[] = [];
  const seen = new Map<number, PortClaim>();
  for (const claim of claims) {
    if (claim.port === 0) continue;
    const earlier = seen.get(claim.port);
    if (earlier) {
      problems.push({ claim, message: `port ${claim.port} is given to both ${earlier.what} and ${claim.what}; ${claim.remedy}` });
      continue;
    }
    seen.set(claim.port, claim);
    const code = await tryBind(claim.host, claim.port);
    if (code === undefined) continue;
    problems.push({ claim, message: code === 'EADDRINUSE' ? portInUseMessage(claim) : `cannot listen on ${claim.host}:${claim.port} for ${claim.what} (${code}); ${claim.remedy}` });
  }
  return problems;
}

/** `port 8000 (the proxy) is in use by pid 123 (python3); pass --proxy-port`. */
export function portInUseMessage(claim: PortClaim): string {
  const holder = portHolder(claim.port);
  const by = holder ? ` by pid ${holder.pid}${holder.command ? ` (${holder.command})` : ''}` : '';
  return `port ${claim.port} (${claim.what}) is in use${by}; ${claim.remedy}`;
}

/** Binds and closes at once; resolves with the error code when the bind fails. */
function tryBind(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(undefined)));
  });
}

/**
 * The process listening on a TCP port, from /proc (Linux): the socket's inode in
 * /proc/net/tcp{,6}, then the process holding that inode among its file descriptors. Only
 * processes this user may inspect are found; anywhere else the answer is undefined.
 */
export function portHolder(port: number): { pid: number; command?: string } | undefined {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try { text = readFileSync(table, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is f[1] (ADDR:PORT in hex), st is f[3] (0A = LISTEN), inode is f[9].
      if (f.length > 9 && f[3] === '0A' && f[1]!.endsWith(`:${hexPort}`)) inodes.add(f[9]!);
    }
  }
  if (!inodes.size) return undefined;
  let pids: string[];
  try { pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)); } catch { return undefined; }
  for (const pid of pids) {
    let fds: string[];
    try { fds = readdirSync(`/proc/${pid}/fd`); } catch { continue; }
    for (const fd of fds) {
      let target: string;
      try { target = readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { continue; }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1]!)) {
        let command: string | undefined;
        try { command = readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { /* gone */ }
        return { pid: Number(pid), ...(command ? { command } : {}) };
      }
    }
  }
  return undefined;
}

/** True when an error from a bind says the address is taken (net, http2 and grpc-js word it differently). */
export function isAddressInUse(e: unknown): boolean {
  const err = e as NodeJS.ErrnoException | undefined;
  return err?.code === 'EADDRINUSE' || /EADDRINUSE|address already in use/i.test(String(err?.message ?? e));
}
