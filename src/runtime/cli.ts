import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { DEFAULT_PORTS } from '../default-ports.js';
import { formatDiagnostic } from '../errors.js';
import { loadOnlyEnvoyProtos } from '../xds/proto-scope.js';
import { startIdleReclaim } from './idle-reclaim.js';
import type { RateLimitPlan } from '../contracts/ratelimit.js';
import { shortType, TYPE } from '../resources/type-urls.js';
import type { JsonObject } from '../resources/builders.js';
import { hostPortList, intFlag, parseArgs, strFlag, UsageError, type ParsedArgs } from '../args.js';
import { bindRefusals, companionClaims, controlPlaneClaims, controlPlaneOptionsFrom, outputFrom, settingsFrom, tlsFilesFrom, type Output } from './cli-options.js';
import { readConfigTexts } from './config-files.js';
import { COMPANIONS } from './companions.js';
import { checkPorts, type PortClaim } from './port-check.js';
import { Processes, whyNotStarted } from './processes.js';
import { OPERATOR_COMMANDS, OPERATOR_USAGE } from './operator/usage.js';
// The control plane, the compiler, the certificate maker and the operator commands are loaded
// by the commands that use them: a companion process (`frontdesk ratelimit`, ...) holds none of them.
import type { compileConfig as CompileConfig } from './compile.js';
import type { ControlPlane } from './control-plane.js';

const P = DEFAULT_PORTS;

const USAGE = `frontdesk: Kong-shaped YAML served by Envoy over xDS

  frontdesk start [--config PATH] [--proxy-port ${P.proxy}] [--admin-port ${P.admin}] [--xds-port ${P.xds}] [--envoy-admin-port ${P.envoyAdmin}]
                  [--authz HOST:${P.authz}] [--ratelimit HOST:${P.ratelimit}] [--transform HOST:${P.transform}] [--log HOST:${P.log}] [--ratelimit-admin-port N] [--delta] [--acme-ca F]
  frontdesk control-plane --config PATH [--xds-port ${P.xds}] [--admin-port ${P.admin}] [--xds-host 127.0.0.1] [--admin-host 127.0.0.1]
                          [--proxy-port ${P.proxy}] [--authz HOST:PORT] [--ratelimit HOST:PORT] [--transform HOST:PORT] [--log HOST:PORT] [--authz-fail-open]
                          [--authz-timeout 1000] [--ratelimit-timeout 500] [--no-watch] [--admin-token T (or FRONTDESK_ADMIN_TOKEN)] [--envoy-tls-dir DIR]
                          [--credential-salt-file F (replicas: the same file for each)] [--acme-ca F (the acme plugin's CA roots, besides the system's)]
  frontdesk bootstrap --xds HOST:PORT[,HOST:PORT...] --node-id ID [--cluster NAME] [--admin-port ${P.envoyAdmin}] [--admin-host 127.0.0.1] [--delta]
  frontdesk <companion> --xds HOST:PORT[,HOST:PORT...] [--port N] [--host 127.0.0.1] [--node-id ID]   (companions: COMPANION_NAMES)
  frontdesk certs [--out DIR] [--fleet NAME ...] [--host NAME ...]   (a CA and a certificate per party; again: new certificates, same CA)
  frontdesk validate PATH
  frontdesk translate PATH [--fleet NAME] [--companions [--show-secrets]]
${OPERATOR_USAGE}

--config takes a YAML file or a folder of *.yaml files (merged).
--tls-cert F --tls-key F --tls-ca F (control-plane, companions, bootstrap): mutual TLS, files re-read when they change;
  plaintext gRPC ports bind only to loopback unless --insecure is given.
--log-format pretty|json: readable lines (the default on a terminal) or JSON lines (the default otherwise).`
  .replace('COMPANION_NAMES', COMPANIONS.map((c) => `${c.name} [--port ${c.defaultPort}] ${c.usage}`.trim()).join('; ') || 'none');

const BOOLEANS = ['no-watch', 'delta', 'authz-fail-open', 'help', 'companions', 'insecure', 'show-secrets'];

/** Credential fields of companion resources, by the list (or message) that holds them. */
const SECRET_FIELDS: Record<string, string[]> = { keyauth_credentials: ['key', 'key_hash'], basicauth_credentials: ['password', 'password_hash'], hmacauth_credentials: ['secret'], jwt_secrets: ['secret'], standard_webhooks: ['secret_v1'], session: ['secret'], redis: ['password'] };

/** Secret fields wherever they are (a log sink's Loggly token). */
const SECRET_ANYWHERE = new Set(['loggly_key']);

/** A copy with every credential replaced by "<redacted>", for printing. */
function redact(v: unknown, list?: string): unknown {
  if (Array.isArray(v)) return v.map((x) => redact(x, list));
  if (!v || typeof v !== 'object') return v;
  const secret = (k: string) => SECRET_ANYWHERE.has(k) || (list !== undefined && SECRET_FIELDS[list]?.includes(k));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, secret(k) && typeof x === 'string' ? '<redacted>' : redact(x, SECRET_FIELDS[k] ? k : undefined)]));
}

async function cmdValidate(args: ParsedArgs): Promise<number> {
  const path = args.positionals[1] ?? strFlag(args, 'config');
  if (!path) throw new UsageError('validate needs a PATH');
  let texts;
  try { texts = readConfigTexts(path); } catch (e) { process.stderr.write(`${path}:1:1: error: cannot read: ${(e as Error).message}\n`); return 1; }
  const { compileConfig } = await import('./compile.js');
  let r: ReturnType<typeof CompileConfig>;
  try {
    r = compileConfig(texts);
  } catch (e) {
    process.stderr.write(`${path}:1:1: error: cannot translate: ${(e as Error).message}\n`);
    return 1;
  }
  for (const d of r.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
  const errors = r.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = r.diagnostics.length - errors;
  if (!r.ok) { process.stderr.write(`${errors} error(s), ${warnings} warning(s)\n`); return 1; }
  const ir = r.ir!;
  process.stdout.write(`ok: ${ir.backends.length} service(s), ${new Set(ir.routes.map((x) => x.routeName)).size} route(s), ${ir.listeners.length} listener(s), ${warnings} warning(s)\n`);
  return 0;
}

async function cmdTranslate(args: ParsedArgs): Promise<number> {
  const path = args.positionals[1] ?? strFlag(args, 'config');
  if (!path) throw new UsageError('translate needs a PATH');
  const { compileConfig } = await import('./compile.js');
  const { enforcerLines } = await import('./plugin-enforcers.js');
  const { planRateLimits } = await import('../contracts/ratelimit.js');
  const r = compileConfig(readConfigTexts(path), { settings: settingsFrom(args) });
  if (!r.ok) { for (const d of r.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`); return 1; }
  const fleet = strFlag(args, 'fleet', '');
  const types = r.translation!.fleets.get(fleet) ?? r.translation!.fleets.get('')!;
  const out: Record<string, Record<string, unknown>> = {};
  // Companion resources carry credentials: printed only when asked for.
  const companions = args.flags.has('companions') ? [...r.translation!.companions] : [];
  // What is sent to the companions, credentials redacted unless --show-secrets.
  const show = args.flags.has('show-secrets');
  for (const [typeUrl, m] of types) out[shortType(typeUrl)] = Object.fromEntries(typeUrl === TYPE.secret ? [...m].map(([k, v]) => [k, printedSecret(k, v, show)]) : m);
  for (const [typeUrl, m] of companions) out[shortType(typeUrl)] = Object.fromEntries([...m].map(([k, v]) => [k, show ? v : redact(v)]));
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  for (const line of rateLimitEnforcers(planRateLimits(r.ir!, { failOpen: settingsFrom(args).ratelimit.failOpen }))) process.stderr.write(`${line}\n`);
  // Who serves each plugin, per route (stderr: stdout stays the resources alone).
  for (const line of enforcerLines(r.ir!, r.model!)) process.stderr.write(`${line}\n`);
  return 0;
}

/** The acme plugin's default certificate: made by each control plane when it starts, so no printed copy is the one served. */
const ACME_DEFAULT_SECRET = 'certificate:acme:default';

/** An SDS secret as translate prints it: private keys redacted unless --show-secrets; the acme default certificate named, not printed (it is made anew by each process). */
function printedSecret(name: string, v: JsonObject, show: boolean): unknown {
  const tls = v.tls_certificate as { certificate_chain?: unknown; private_key?: unknown } | undefined;
  if (!tls) return v;
  if (name === ACME_DEFAULT_SECRET) return { ...v, tls_certificate: { certificate_chain: { inline_string: '<made when the control plane starts: self-signed, CN localhost>' }, private_key: { inline_string: '<redacted>' } } };
  return show || tls.private_key === undefined ? v : { ...v, tls_certificate: { ...tls, private_key: { inline_string: '<redacted>' } } };
}

/** Who serves each route's rate-limiting, with the reason when it is the companion (translate prints it). */
function rateLimitEnforcers(plan: RateLimitPlan): string[] {
  return [
    ...[...plan.native.keys()].map((route) => ({ route, line: `rate-limiting on route "${route}": Envoy (local_ratelimit)` })),
    ...[...plan.routes.keys()].map((route) => {
      const why = plan.companionWhy.get(route);
      return { route, line: `rate-limiting on route "${route}": the ratelimit companion${why?.length ? ` (${why.join('; ')})` : ''}` };
    }),
  ].sort((a, b) => (a.route < b.route ? -1 : 1)).map((x) => x.line);
}

async function cmdBootstrap(args: ParsedArgs): Promise<number> {
  // Loaded here: the YAML writer is no part of a companion process.
  const { bootstrapYaml, envoySds, envoySdsFiles } = await import('./bootstrap.js');
  const xds = hostPortList(strFlag(args, 'xds', `127.0.0.1:${P.xds}`), 'xds');
  const nodeId = strFlag(args, 'node-id');
  if (!nodeId) throw new UsageError('bootstrap needs --node-id ID');
  const files = tlsFilesFrom(args);
  const tls = files && envoySds(resolve(dirname(files.cert)));
  // The SDS files sit beside the certificates: Envoy reads them, and the files they name, again on a move there.
  if (files && tls) for (const f of envoySdsFiles({ cert: resolve(files.cert), key: resolve(files.key), ca: resolve(files.ca) }, tls)) writeFileSync(f.path, f.text);
  process.stdout.write(bootstrapYaml({
    xds, nodeId, cluster: strFlag(args, 'cluster', 'frontdesk'), adminPort: intFlag(args, 'admin-port', P.envoyAdmin),
    adminHost: strFlag(args, 'admin-host', '127.0.0.1'), delta: args.flags.has('delta'), ...(tls ? { tls } : {}),
  }));
  return 0;
}

/** `frontdesk certs`: writes the CA (kept when present) and every party's certificate. */
async function cmdCerts(argv: string[]): Promise<number> {
  const many = (name: string) => argv.flatMap((a, i) => (a === `--${name}` && argv[i + 1] && !argv[i + 1]!.startsWith('--') ? [argv[i + 1]!] : a.startsWith(`--${name}=`) ? [a.slice(name.length + 3)] : []));
  const args = parseArgs(argv, BOOLEANS);
  const dir = strFlag(args, 'out', 'certs');
  const fleets = many('fleet');
  mkdirSync(dir, { recursive: true });
  const { COMPANION_NAMES, writeCerts } = await import('./certs.js');
  const r = writeCerts(dir, { fleets: fleets.length ? fleets : ['frontdesk'], companions: COMPANION_NAMES, hosts: many('host') });
  process.stdout.write(`${r.caCreated ? 'created a CA and' : 'kept the CA; wrote'} ${(r.files.length - 2) / 2} certificate(s) in ${dir}:\n${r.files.map((f) => `  ${f}`).join('\n')}\n`);
  return 0;
}

/** The refusals of plaintext beyond loopback (and of an open admin without a token), printed one a line; true when there are none. */
function bindsAllowed(refusals: string[]): boolean {
  for (const r of refusals) process.stderr.write(`frontdesk: ${r}\n`);
  return refusals.length === 0;
}

/** Tries the ports first: each one in use is a line of its own; true when all are free. */
async function portsFree(claims: PortClaim[], out: Output): Promise<boolean> {
  const problems = await checkPorts(claims);
  for (const p of problems) out.logger.error(p.message);
  return problems.length === 0;
}

/** Runs `start` and says, in one line, why it could not (a port taken between the check and the bind). */
async function startOrExplain(what: string, start: () => Promise<void>, out: Output): Promise<boolean> {
  try {
    await start();
    return true;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    out.logger.error(whyNotStarted(what, e));
    return false;
  }
}

async function cmdControlPlane(args: ParsedArgs, out: Output): Promise<number> {
  const options = controlPlaneOptionsFrom(args, out.logger);
  if (!bindsAllowed(bindRefusals([{ what: 'xDS', ...options.xds }], options.tls !== undefined, args, { ...options.admin, token: options.adminToken }))) return 1;
  if (!(await portsFree(controlPlaneClaims(options), out))) return 1;
  const { ControlPlane: Cp } = await import('./control-plane.js');
  let cp: ControlPlane;
  try { cp = new Cp(options); } catch (e) { out.logger.error((e as Error).message); return 1; }
  const running = new Processes(out.notices, out.quiet);
  if (!(await startOrExplain('the control plane', async () => {
    const { xdsPort, adminPort } = await cp.start();
    running.add({ label: `the control plane (xds ${xdsPort}, admin ${adminPort})`, stop: () => cp.stop() });
  }, out))) { await cp.stop(); return 1; }
  running.stopOnSignals();
  return new Promise<number>(() => undefined);
}

async function cmdCompanion(name: string, args: ParsedArgs, out: Output): Promise<number> {
  const def = COMPANIONS.find((c) => c.name === name)!;
  // Alone in this process: only the Envoy messages it uses are loaded.
  if (def.envoyProtos) loadOnlyEnvoyProtos(def.envoyProtos);
  const xds = hostPortList(strFlag(args, 'xds', `127.0.0.1:${P.xds}`), 'xds');
  const at = { host: strFlag(args, 'host', '127.0.0.1'), port: intFlag(args, 'port', def.defaultPort) };
  const files = tlsFilesFrom(args);
  if (!bindsAllowed(bindRefusals([{ what: `the ${name} companion`, ...at }], files !== undefined, args))) return 1;
  if (!(await portsFree(companionClaims(def, at, args.flags, 'pass --port'), out))) return 1;
  const running = new Processes(out.notices, out.quiet);
  if (!(await startOrExplain(`the ${name} companion`, async () => {
    const c = await def.start({
      ...(files ? { tls: files } : {}),
      xds, ...at, nodeId: strFlag(args, 'node-id', `${name}-${hostname()}-${process.pid}`), logger: out.logger.child({ companion: name }), flags: args.flags,
    });
    out.logger.info({ companion: name, port: c.port }, 'companion listening');
    // Alone in this process: its heap goes back to the system when it is quiet after a busy spell.
    const stopReclaim = startIdleReclaim({
      onReclaim: (r) => out.logger.debug({ companion: name, heapBytes: [r.beforeBytes, r.afterBytes], ms: Math.round(r.ms) }, 'heap reclaimed after a busy spell'),
    });
    running.add({ label: `the ${name} companion (port ${c.port})`, stop: () => { stopReclaim(); return c.stop(); } });
  }, out))) return 1;
  running.stopOnSignals();
  return new Promise<number>(() => undefined);
}

/** The `frontdesk` command. */
export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, BOOLEANS);
  const cmd = args.positionals[0];
  if (!cmd || args.flags.has('help')) { process.stdout.write(`${USAGE}\n`); return cmd ? 0 : 2; }
  try {
    switch (cmd) {
      case 'validate': return await cmdValidate(args);
      case 'translate': return await cmdTranslate(args);
      case 'bootstrap': return await cmdBootstrap(args);
      case 'certs': return await cmdCerts(argv);
      case 'control-plane': return await cmdControlPlane(args, outputFrom(args));
      case 'start': return await (await import('./start.js')).cmdStart(args, outputFrom(args));
      default:
        if (OPERATOR_COMMANDS.includes(cmd)) return await (await import('./operator/commands.js')).runOperatorCommand(cmd, args)!;
        if (COMPANIONS.some((c) => c.name === cmd)) return await cmdCompanion(cmd, args, outputFrom(args));
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) { process.stderr.write(`frontdesk: ${e.message}\n\n${USAGE}\n`); return 2; }
    throw e;
  }
}
