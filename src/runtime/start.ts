import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_PORTS } from '../default-ports.js';
import { diag, formatDiagnostic, formatPath, type Diagnostic } from '../errors.js';
import type { GatewayIR, IrListener } from '../ir/types.js';
import { intFlag, strFlag, UsageError, type ParsedArgs } from '../args.js';
import { bootstrapYaml } from './bootstrap.js';
import { companionClaims, controlPlaneClaims, controlPlaneOptionsFrom, type Output } from './cli-options.js';
import { COMPANIONS } from './companions.js';
import { compileConfig, type CompileOptions, type CompileResult } from './compile.js';
import { readConfigTexts } from './config-files.js';
import { ControlPlane } from './control-plane.js';
import { EnvoyProcess } from './envoy.js';
import { checkPorts, type PortClaim } from './port-check.js';
import { Processes, whyNotStarted } from './processes.js';

/**
 * `frontdesk start`: the control plane, every companion and an Envoy, in one process tree.
 * Before anything starts, the config is compiled (its errors printed as `validate` prints
 * them) and every port is tried (a port in use is one line naming the flag to pass); once
 * Envoy is ready it prints what a person needs next; Ctrl-C stops each part with a line.
 */
export async function cmdStart(args: ParsedArgs, out: Output): Promise<number> {
  const { logger } = out;
  const cpOptions = controlPlaneOptionsFrom(args, logger, 'config');
  const cluster = strFlag(args, 'cluster', 'frontdesk');
  const envoyAdminPort = intFlag(args, 'envoy-admin-port', DEFAULT_PORTS.envoyAdmin);

  const compiled = compileAtStart(cpOptions.configPath, cpOptions);
  if (!compiled.ok) { reportConfigErrors(out, compiled.diagnostics); return 1; }
  const ir = compiled.ir!;

  const companions = COMPANIONS.map((def) => ({ def, at: cpOptions.settings[def.name as 'authz' | 'ratelimit' | 'transform' | 'log'] ?? { host: '127.0.0.1', port: def.defaultPort } }));
  const claims: PortClaim[] = [
    ...proxyListeners(ir, cluster).map((l) => listenerClaim(l, cpOptions.ir.defaultListener.port)),
    ...controlPlaneClaims(cpOptions),
    ...companions.flatMap(({ def, at }) => companionClaims(def, at, args.flags, `pass --${def.name} HOST:PORT`)),
    { host: '127.0.0.1', port: envoyAdminPort, what: "Envoy's admin", remedy: 'pass --envoy-admin-port' },
  ];
  const problems = await checkPorts(claims);
  if (problems.length) {
    for (const p of problems) logger.error(p.message);
    return 1;
  }

  const running = new Processes(out.notices, out.quiet);
  running.stopOnSignals();
  let step = 'the control plane';
  try {
    const cp = new ControlPlane(cpOptions);
    const { xdsPort, adminPort } = await cp.start();
    running.add({ label: `the control plane (xds ${xdsPort}, admin ${adminPort})`, stop: () => cp.stop() });
    const started: Array<{ name: string; ready(): boolean }> = [];
    for (const { def, at } of companions) {
      step = `the ${def.name} companion`;
      const c = await def.start({
        xds: { host: '127.0.0.1', port: xdsPort }, host: at.host, port: at.port,
        nodeId: `${def.name}-${hostname()}`, logger: logger.child({ companion: def.name }),
        // The log companion reads its Envoy's admin for the targets' health (kong_upstream_target_health).
        flags: def.name === 'log' && envoyAdminPort > 0 && !args.flags.has('envoy-admin') ? new Map([...args.flags, ['envoy-admin', `127.0.0.1:${envoyAdminPort}`]]) : args.flags,
      });
      running.add({ label: `the ${def.name} companion (port ${c.port})`, stop: () => c.stop() });
      started.push({ name: def.name, ready: () => c.ready() });
    }
    // Envoy comes up only once every companion holds its policy: its first requests find them ready.
    step = 'the companions';
    await companionsReady(started, COMPANION_READY_MS);
    step = 'envoy';
    const envoy = await EnvoyProcess.start({
      bootstrapYaml: bootstrapYaml({
        xds: { host: '127.0.0.1', port: xdsPort }, nodeId: strFlag(args, 'node-id', `frontdesk-${hostname()}`),
        cluster, adminPort: envoyAdminPort, delta: args.flags.has('delta'),
      }),
      logger, foldLog: true, logLevel: strFlag(args, 'envoy-log-level', 'warning'),
    });
    running.add({ label: `envoy (pid ${envoy.pid})`, stop: () => envoy.stop() });
    envoy.exitedPromise().then(async (code) => {
      if (running.isStopping) return;
      logger.error({ code }, 'envoy exited by itself; stopping the rest');
      await running.stopAll();
      process.exit(1);
    });
    await envoy.waitReady(60_000);
    cp.shedding.watch(envoy.adminUrl);
    const ready = readySummary({ ir, cluster, configPath: cpOptions.configPath, adminHost: cpOptions.admin.host, adminPort, envoyAdmin: envoy.adminUrl });
    if (out.format === 'pretty') logger.info({ next: ready.lines }, 'gateway ready');
    else logger.info(ready.fields, 'gateway ready');
  } catch (e) {
    if (running.isStopping) return new Promise<number>(() => undefined);
    if (e instanceof UsageError) { await running.stopAll(); throw e; }
    logger.error(whyNotStarted(step, e));
    await running.stopAll();
    process.exit(1);
  }
  return new Promise<number>(() => undefined);
}

/** How long `start` waits for the companions to hold their first policy before giving up. */
const COMPANION_READY_MS = 30_000;

/** Resolves once every companion is ready; rejects naming the ones that are not after `timeoutMs`. */
async function companionsReady(companions: ReadonlyArray<{ name: string; ready(): boolean }>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const waiting = companions.filter((c) => !c.ready()).map((c) => c.name);
    if (!waiting.length) return;
    if (Date.now() > deadline) throw new Error(`${waiting.join(', ')} did not receive ${waiting.length > 1 ? 'their' : 'its'} policy from the control plane within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The config as the control plane will compile it, read errors and translation gaps included. */
function compileAtStart(configPath: string, o: CompileOptions): CompileResult {
  let texts;
  try {
    texts = readConfigTexts(configPath);
  } catch (e) {
    return { ok: false, diagnostics: [{ ...diag('FD_READ_FAILED', [], configPath, (e as Error).message), file: configPath }] };
  }
  try {
    return compileConfig(texts, { ir: o.ir, settings: o.settings });
  } catch (e) {
    return { ok: false, diagnostics: [{ ...diag('FD_TRANSLATE', [], (e as Error).message), file: configPath }] };
  }
}

/**
 * A config that does not load: every diagnostic as `frontdesk validate` prints it (file:line:col,
 * message, hint) on a terminal; as one JSON record each, its parts as fields, otherwise.
 */
function reportConfigErrors(out: Output, diagnostics: Diagnostic[]): void {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const summary = `the config has ${errors} error(s), ${diagnostics.length - errors} warning(s): not starting`;
  if (out.format === 'pretty') {
    for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
    process.stderr.write(`${summary}\n`);
    return;
  }
  for (const d of diagnostics) {
    const record = { code: d.code, file: d.file, line: d.line, col: d.col, path: formatPath(d.path), ...(d.hint ? { hint: d.hint } : {}) };
    if (d.severity === 'error') out.logger.error(record, d.message);
    else out.logger.warn(record, d.message);
  }
  out.logger.error(summary);
}

/** The listeners this Envoy serves: those of its fleet (node cluster), or of the default fleet. */
function proxyListeners(ir: GatewayIR, cluster: string): IrListener[] {
  const fleet = ir.listeners.some((l) => l.fleet === cluster) ? cluster : '';
  return ir.listeners.filter((l) => l.fleet === undefined || l.fleet === fleet);
}

function listenerClaim(l: IrListener, proxyPort: number): PortClaim {
  // The listener made when the file declares none is the proxy port's; others are the file's own.
  const fromFlag = l.name === 'proxy' && l.port === proxyPort;
  return {
    host: l.address, port: l.port, what: fromFlag ? 'the proxy' : `listener "${l.name}"`,
    remedy: fromFlag ? 'pass --proxy-port' : `change the port of listener "${l.name}" in the config`,
  };
}

/** What `start` prints once Envoy is ready: where things are, and a request to try. */
export function readySummary(o: { ir: GatewayIR; cluster: string; configPath: string; adminHost: string; adminPort: number; envoyAdmin: string }): { lines: string[]; fields: Record<string, unknown> } {
  const listeners = proxyListeners(o.ir, o.cluster);
  const urls = listeners.map((l) => `${l.protocol}://${['0.0.0.0', '::', ''].includes(l.address) ? 'localhost' : l.address}:${l.port}`);
  const admin = `http://${o.adminHost.includes(':') ? `[${o.adminHost}]` : o.adminHost}:${o.adminPort}`;
  const config = resolve(o.configPath);
  const tryCmd = tryCurl(listeners[0], urls[0]);
  const lines = [
    ...urls.map((u, i) => `proxy    ${u}${listeners.length > 1 ? `  (listener ${listeners[i]!.name})` : ''}`),
    `admin    ${admin}  (/status, /metrics, /readyz)`,
    `ui       ${admin}/ui  (the dashboard: routes, plugins, fleet, last error)`,
    `envoy    ${o.envoyAdmin}  (Envoy's own admin)`,
    `config   ${config}  (watched: a saved edit is live at once)`,
    ...(tryCmd ? [`try      ${tryCmd}`] : []),
    'stop     Ctrl-C',
  ];
  return { lines, fields: { proxy: urls, admin, dashboard: `${admin}/ui`, envoyAdmin: o.envoyAdmin, config, ...(tryCmd ? { try: tryCmd } : {}) } };
}

/** A curl for the first plain route (a prefix path, GET), or for `/` (Kong's 404 still shows the gateway answers). */
function tryCurl(l: IrListener | undefined, url: string | undefined): string | undefined {
  if (!l || !url) return undefined;
  const r = l.routes.find((x) => x.path?.kind === 'prefix' && !x.headers.length && (!x.methods || x.methods.includes('GET')) && !x.hosts.some((h) => h.includes('*')));
  const host = r?.hosts[0];
  return `curl -i${l.protocol === 'https' ? 'k' : ''}${host ? ` -H 'Host: ${host}'` : ''} ${url}${r?.path?.value ?? '/'}`;
}
