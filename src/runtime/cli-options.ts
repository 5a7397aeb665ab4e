import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DEFAULT_PORTS } from '../default-ports.js';
import type { IrOptions } from '../ir/build.js';
import { createLogger, stderrSink, type Logger } from '../logger.js';
import { DEFAULT_SETTINGS, type TranslateSettings } from '../resources/filters/registry.js';
import { hostPort, intFlag, strFlag, UsageError, type ParsedArgs } from '../args.js';
import { adminPortOf, type CompanionDefinition } from './companions.js';
import type { ControlPlaneOptions } from './control-plane.js';
import type { PortClaim } from './port-check.js';
import { prettyStream, type LogFormat } from './pretty-log.js';
import { isLoopback, plaintextRefusal, type TlsFiles } from '../tls.js';
import { envoySds } from './envoy-sds.js';

/** From the command line to the options of each part: one place for every flag's default. */

function msFlag(args: ParsedArgs, name: string, def: number): number {
  const v = strFlag(args, name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 60_000) throw new UsageError(`--${name} takes milliseconds (1-60000), got "${v}"`);
  return n;
}

/** Where Envoy finds the companions, and how it treats them. */
export function settingsFrom(args: ParsedArgs): TranslateSettings {
  const at = (name: 'authz' | 'ratelimit' | 'transform' | 'log') => hostPort(strFlag(args, name, `${DEFAULT_SETTINGS[name].host}:${DEFAULT_SETTINGS[name].port}`), name);
  return {
    ...DEFAULT_SETTINGS,
    authz: { ...DEFAULT_SETTINGS.authz, ...at('authz'), failOpen: args.flags.has('authz-fail-open'), timeoutMs: msFlag(args, 'authz-timeout', DEFAULT_SETTINGS.authz.timeoutMs) },
    ratelimit: { ...DEFAULT_SETTINGS.ratelimit, ...at('ratelimit'), timeoutMs: msFlag(args, 'ratelimit-timeout', DEFAULT_SETTINGS.ratelimit.timeoutMs) },
    transform: { ...DEFAULT_SETTINGS.transform, ...at('transform') },
    log: { ...DEFAULT_SETTINGS.log, ...at('log') },
    ...envoyTlsFrom(args),
  };
}

/** `--tls-cert`, `--tls-key`, `--tls-ca`: all three (mTLS) or none (plaintext). */
export function tlsFilesFrom(args: ParsedArgs): TlsFiles | undefined {
  const [cert, key, ca] = [strFlag(args, 'tls-cert'), strFlag(args, 'tls-key'), strFlag(args, 'tls-ca')];
  if (cert === undefined && key === undefined && ca === undefined) return undefined;
  if (cert === undefined || key === undefined || ca === undefined) throw new UsageError('--tls-cert, --tls-key and --tls-ca go together (see `frontdesk certs`)');
  return { cert, key, ca };
}

/** Where Envoys read their certificates for the companions: --envoy-tls-dir, else the folder of --tls-cert. */
function envoyTlsFrom(args: ParsedArgs): Pick<TranslateSettings, 'tls'> {
  const dir = strFlag(args, 'envoy-tls-dir') ?? (tlsFilesFrom(args) ? dirname(tlsFilesFrom(args)!.cert) : undefined);
  return dir ? { tls: envoySds(dir) } : {};
}

/**
 * Why a bind is refused, one line each: a plaintext gRPC port beyond loopback without
 * --insecure, or an admin API beyond loopback without a token.
 */
export function bindRefusals(grpcPorts: { what: string; host: string; port: number }[], tls: boolean, args: ParsedArgs, admin?: { host: string; port: number; token?: string }): string[] {
  const insecure = args.flags.has('insecure');
  const out = grpcPorts.map((p) => plaintextRefusal(p.what, p.host, p.port, tls, insecure)).filter((x): x is string => x !== undefined);
  if (admin && !admin.token && !isLoopback(admin.host)) {
    out.push(`refusing to serve the admin API on ${admin.host}:${admin.port} without a token: give --admin-token (or FRONTDESK_ADMIN_TOKEN), or bind it to 127.0.0.1`);
  }
  return out;
}

export function irOptionsFrom(args: ParsedArgs): IrOptions {
  return { defaultListener: { address: strFlag(args, 'proxy-host', '0.0.0.0'), port: intFlag(args, 'proxy-port', DEFAULT_PORTS.proxy) } };
}

export function controlPlaneOptionsFrom(args: ParsedArgs, logger: Logger, configDefault?: string): ControlPlaneOptions {
  const configPath = strFlag(args, 'config') ?? configDefault;
  if (!configPath) throw new UsageError('--config PATH is required');
  return {
    configPath,
    xds: { host: strFlag(args, 'xds-host', '127.0.0.1'), port: intFlag(args, 'xds-port', DEFAULT_PORTS.xds) },
    admin: { host: strFlag(args, 'admin-host', '127.0.0.1'), port: intFlag(args, 'admin-port', DEFAULT_PORTS.admin) },
    settings: { ...settingsFrom(args), ...credentialSaltFrom(args) },
    ir: irOptionsFrom(args),
    logger,
    watch: !args.flags.has('no-watch'),
    ...(tlsFilesFrom(args) ? { tls: tlsFilesFrom(args) } : {}),
    adminToken: adminTokenFrom(args),
    ...acmeCaFrom(args),
  };
}

/** `--acme-ca F`: PEM roots the acme plugin's client trusts for the ACME server besides Node's (a private CA, a test CA). */
function acmeCaFrom(args: ParsedArgs): Pick<ControlPlaneOptions, 'acmeCa'> {
  const file = strFlag(args, 'acme-ca');
  if (file === undefined) return {};
  try { return { acmeCa: [readFileSync(file, 'utf8')] }; } catch (e) { throw new UsageError(`--acme-ca ${file}: ${(e as Error).message}`); }
}

/**
 * `--credential-salt-file F`: the salt of the credential hashes sent to the companions, shared by
 * the replicas of a control plane so that they serve the same versions (without it each process
 * picks its own at random, and a companion moving to another replica would get every consumer
 * again). At least 16 characters (`openssl rand -base64 32 > salt`); trailing whitespace ignored.
 */
export function credentialSaltFrom(args: ParsedArgs): Pick<TranslateSettings, 'credentialSalt'> {
  const file = strFlag(args, 'credential-salt-file');
  if (file === undefined) return {};
  let salt: string;
  try { salt = readFileSync(file, 'utf8').trimEnd(); } catch (e) { throw new UsageError(`--credential-salt-file ${file}: ${(e as Error).message}`); }
  if (salt.length < 16) throw new UsageError(`--credential-salt-file ${file} holds ${salt.length} characters; give at least 16 (openssl rand -base64 32 > ${file})`);
  return { credentialSalt: salt };
}

/** The admin token: --admin-token, else FRONTDESK_ADMIN_TOKEN. */
export function adminTokenFrom(args: ParsedArgs): string | undefined {
  return strFlag(args, 'admin-token') ?? (process.env.FRONTDESK_ADMIN_TOKEN || undefined);
}

/** The ports the control plane opens, with the flag that moves each. */
export function controlPlaneClaims(o: ControlPlaneOptions): PortClaim[] {
  return [
    { host: o.xds.host, port: o.xds.port, what: 'the xDS server', remedy: 'pass --xds-port' },
    { host: o.admin.host, port: o.admin.port, what: 'the Frontdesk admin', remedy: 'pass --admin-port' },
  ];
}

/** The ports a companion opens: gRPC, and its admin server when it has one. */
export function companionClaims(def: CompanionDefinition, at: { host: string; port: number }, flags: ReadonlyMap<string, string | true>, grpcRemedy: string): PortClaim[] {
  const claims: PortClaim[] = [{ host: at.host, port: at.port, what: `the ${def.name} companion`, remedy: grpcRemedy }];
  if (def.adminPortFlag) {
    claims.push({ host: at.host, port: adminPortOf(flags, def.adminPortFlag, at.port), what: `the ${def.name} companion's admin`, remedy: `pass --${def.adminPortFlag}` });
  }
  return claims;
}

/** How the process logs: `--log-format pretty|json`, readable on a terminal and JSON elsewhere by default. */
export interface Output {
  logger: Logger;
  format: LogFormat;
  /** The same stream, never quieted: for the lines a deliberate stop prints. */
  notices: Logger;
  /**
   * From now on `logger` passes errors only: once a person pressed Ctrl-C, the parts noticing
   * each other go away (streams closed, reconnecting) is not news; the stop lines are.
   */
  quiet(): void;
}

export function outputFrom(args: ParsedArgs): Output {
  const given = strFlag(args, 'log-format');
  if (given !== undefined && given !== 'pretty' && given !== 'json') throw new UsageError(`--log-format takes pretty or json, got "${given}"`);
  const format: LogFormat = given ?? (process.stderr.isTTY ? 'pretty' : 'json');
  // Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org).
  const color = format === 'pretty' && Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;
  const sink = format === 'pretty' ? prettyStream({ color }) : stderrSink();
  let quiet = false;
  const gated = { write(line: string) { if (!quiet || levelOf(line) >= 50) sink.write(line); } };
  return { format, logger: createLogger(undefined, gated), notices: createLogger(undefined, sink), quiet: () => { quiet = true; } };
}

function levelOf(line: string): number {
  try { return Number((JSON.parse(line) as { level?: unknown }).level) || 0; } catch { return 0; }
}
