import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, until } from './net.js';
import { stopper, type Child } from './services.js';

/**
 * envoyproxy/ratelimit (its `service_cmd`, built by `sh scripts/bench-prepare.sh ratelimit-peer`
 * into .cache/bench-bin) as a peer of the ratelimit companion: on the given Redis, with a config
 * of its own format (`domain:` and a `descriptors:` tree, written to its runtime folder), gRPC on
 * a free loopback port. Its log goes to a file: a pipe nobody reads while a load runs would stall it.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BENCH_BIN = join(ROOT, '.cache', 'bench-bin');
export const PEER_BINARY = join(BENCH_BIN, 'service_cmd');

export function peerBuilt(): boolean {
  return existsSync(PEER_BINARY);
}

/**
 * A descriptor tree with a limit at the end of each of `paths` (each a list of keys in order: a
 * `key=value` fixes the value, a bare key takes any), paths sharing a start sharing its nodes.
 */
export function descriptorTree(paths: readonly (readonly string[])[], perMinute: number): string {
  interface Node { children: Map<string, Node>; leaf: boolean }
  const root: Node = { children: new Map(), leaf: false };
  for (const path of paths) {
    let n = root;
    for (const k of path) {
      let next = n.children.get(k);
      if (!next) n.children.set(k, (next = { children: new Map(), leaf: false }));
      n = next;
    }
    n.leaf = true;
  }
  const lines: string[] = [];
  const walk = (n: Node, pad: string) => {
    for (const [k, child] of n.children) {
      const [key, value] = k.split('=');
      lines.push(`${pad}- key: ${key}`);
      if (value !== undefined) lines.push(`${pad}  value: "${value}"`);
      if (child.leaf) lines.push(`${pad}  rate_limit: { unit: minute, requests_per_unit: ${perMinute} }`);
      if (child.children.size) { lines.push(`${pad}  descriptors:`); walk(child, `${pad}    `); }
    }
  };
  walk(root, '  ');
  return `${lines.join('\n')}\n`;
}

/**
 * Starts the peer with `descriptors` (YAML list items at two spaces, e.g. from descriptorTree)
 * under `domain`; resolves once its gRPC port accepts connections and `ready()` says it answers.
 */
export async function startRatelimitPeer(dir: string, redisPort: number, domain: string, descriptors: string, ready: (grpcPort: number) => Promise<boolean> | boolean): Promise<Child> {
  const [grpcPort, httpPort, debugPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const configDir = join(dir, 'peer', 'ratelimit', 'config');
  mkdirSync(configDir, { recursive: true });
  writeFileSync(join(configDir, `${domain}.yaml`), `domain: ${domain}\ndescriptors:\n${descriptors}`);
  const env = {
    // No stats sink: without statsd its stats go to a debug logger, a cost no deployment pays.
    ...process.env, USE_STATSD: 'false', DISABLE_STATS: 'true', USE_PROMETHEUS: 'false', LOG_LEVEL: 'warn', BACKEND_TYPE: 'redis', REDIS_SOCKET_TYPE: 'tcp', REDIS_TYPE: 'single',
    REDIS_URL: `127.0.0.1:${redisPort}`, RUNTIME_ROOT: join(dir, 'peer'), RUNTIME_SUBDIRECTORY: 'ratelimit', RUNTIME_APPDIRECTORY: 'config', RUNTIME_WATCH_ROOT: 'false',
    RUNTIME_IGNOREDOTFILES: 'true', HOST: '127.0.0.1', PORT: String(httpPort), GRPC_HOST: '127.0.0.1', GRPC_PORT: String(grpcPort), DEBUG_HOST: '127.0.0.1', DEBUG_PORT: String(debugPort),
  };
  const logFile = join(dir, 'peer.log');
  const logFd = openSync(logFile, 'w');
  const proc = spawn(PEER_BINARY, [], { env, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const child: Child = { proc, port: grpcPort, stop: stopper(proc) };
  try {
    await until('envoyproxy/ratelimit to answer', async () => {
      if (proc.exitCode !== null) throw new Error(`envoyproxy/ratelimit exited with ${proc.exitCode}: ${readFileSync(logFile, 'utf8').slice(-4000)}`);
      return ready(grpcPort);
    }, 30_000);
  } catch (e) {
    await child.stop();
    throw e;
  }
  return child;
}
