import { hostname } from 'node:os';
import { formatDiagnostic } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { DEFAULT_SETTINGS, type TranslateSettings } from '../resources/filters/registry.js';
import { shortType } from '../resources/type-urls.js';
import { hostPort, intFlag, parseArgs, strFlag, UsageError, type ParsedArgs } from './args.js';
import { bootstrapYaml } from './bootstrap.js';
import { compileConfig } from './compile.js';
import { readConfigTexts } from './config-files.js';
import { COMPANIONS, type RunningCompanion } from './companions.js';
import { ControlPlane } from './control-plane.js';
import { EnvoyProcess } from './envoy.js';

const USAGE = `frontdesk: Kong-shaped YAML served by Envoy over xDS

  frontdesk start [--config PATH] [--proxy-port 8000] [--admin-port 8001] [--xds-port 18000] [--envoy-admin-port 9901]
  frontdesk control-plane --config PATH [--xds-port 18000] [--admin-port 8001] [--xds-host 127.0.0.1] [--admin-host 127.0.0.1]
                          [--proxy-port 8000] [--authz HOST:PORT] [--ratelimit HOST:PORT] [--transform HOST:PORT] [--authz-fail-open]
                          [--authz-timeout 1000] [--ratelimit-timeout 500] [--no-watch]
  frontdesk bootstrap --xds HOST:PORT --node-id ID [--cluster NAME] [--admin-port 9901] [--admin-host 127.0.0.1] [--delta]
  frontdesk <companion> --xds HOST:PORT [--port N] [--host 127.0.0.1] [--node-id ID]   (companions: COMPANION_NAMES)
  frontdesk validate PATH
  frontdesk translate PATH [--fleet NAME] [--companions]

--config takes a YAML file or a folder of *.yaml files (merged).`.replace('COMPANION_NAMES', COMPANIONS.map((c) => `${c.name} ${c.usage}`.trim()).join('; ') || 'none');

const BOOLEANS = ['no-watch', 'delta', 'authz-fail-open', 'help', 'companions'];

function msFlag(args: ParsedArgs, name: string, def: number): number {
  const v = strFlag(args, name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 60_000) throw new UsageError(`--${name} takes milliseconds (1-60000), got "${v}"`);
  return n;
}

function settingsFrom(args: ParsedArgs): TranslateSettings {
  const authz = hostPort(strFlag(args, 'authz', `${DEFAULT_SETTINGS.authz.host}:${DEFAULT_SETTINGS.authz.port}`), 'authz');
  const ratelimit = hostPort(strFlag(args, 'ratelimit', `${DEFAULT_SETTINGS.ratelimit.host}:${DEFAULT_SETTINGS.ratelimit.port}`), 'ratelimit');
  const transform = hostPort(strFlag(args, 'transform', `${DEFAULT_SETTINGS.transform.host}:${DEFAULT_SETTINGS.transform.port}`), 'transform');
  return {
    ...DEFAULT_SETTINGS,
    authz: { ...DEFAULT_SETTINGS.authz, ...authz, failOpen: args.flags.has('authz-fail-open'), timeoutMs: msFlag(args, 'authz-timeout', DEFAULT_SETTINGS.authz.timeoutMs) },
    ratelimit: { ...DEFAULT_SETTINGS.ratelimit, ...ratelimit, timeoutMs: msFlag(args, 'ratelimit-timeout', DEFAULT_SETTINGS.ratelimit.timeoutMs) },
    transform: { ...DEFAULT_SETTINGS.transform, ...transform },
  };
}

function controlPlaneFrom(args: ParsedArgs, logger: Logger, configDefault?: string): ControlPlane {
  const configPath = strFlag(args, 'config') ?? configDefault;
  if (!configPath) throw new UsageError('--config PATH is required');
  return new ControlPlane({
    configPath,
    xds: { host: strFlag(args, 'xds-host', '127.0.0.1'), port: intFlag(args, 'xds-port', 18000) },
    admin: { host: strFlag(args, 'admin-host', '127.0.0.1'), port: intFlag(args, 'admin-port', 8001) },
    settings: settingsFrom(args),
    ir: { defaultListener: { address: strFlag(args, 'proxy-host', '0.0.0.0'), port: intFlag(args, 'proxy-port', 8000) } },
    logger,
    watch: !args.flags.has('no-watch'),
  });
}

/** Stops everything on SIGINT/SIGTERM, once. */
function onSignal(stop: () => Promise<void>, logger?: Logger): void {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    stop().then(() => process.exit(0), (e: unknown) => {
      logger?.error({ err: (e as Error).stack ?? String(e) }, 'stopping failed');
      process.exit(1);
    });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

async function cmdValidate(args: ParsedArgs): Promise<number> {
  const path = args.positionals[1] ?? strFlag(args, 'config');
  if (!path) throw new UsageError('validate needs a PATH');
  let texts;
  try { texts = readConfigTexts(path); } catch (e) { process.stderr.write(`${path}:1:1: error: cannot read: ${(e as Error).message}\n`); return 1; }
  let r: ReturnType<typeof compileConfig>;
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
  const r = compileConfig(readConfigTexts(path), { settings: settingsFrom(args) });
  if (!r.ok) { for (const d of r.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`); return 1; }
  const fleet = strFlag(args, 'fleet', '');
  const types = r.translation!.fleets.get(fleet) ?? r.translation!.fleets.get('')!;
  const out: Record<string, Record<string, unknown>> = {};
  // Companion resources carry credentials: printed only when asked for.
  const companions = args.flags.has('companions') ? [...r.translation!.companions] : [];
  for (const [typeUrl, m] of [...types, ...companions]) out[shortType(typeUrl)] = Object.fromEntries(m);
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return 0;
}

async function cmdBootstrap(args: ParsedArgs): Promise<number> {
  const xds = hostPort(strFlag(args, 'xds', '127.0.0.1:18000'), 'xds');
  const nodeId = strFlag(args, 'node-id');
  if (!nodeId) throw new UsageError('bootstrap needs --node-id ID');
  process.stdout.write(bootstrapYaml({
    xds, nodeId, cluster: strFlag(args, 'cluster', 'frontdesk'), adminPort: intFlag(args, 'admin-port', 9901),
    adminHost: strFlag(args, 'admin-host', '127.0.0.1'), delta: args.flags.has('delta'),
  }));
  return 0;
}

async function cmdControlPlane(args: ParsedArgs, logger: Logger): Promise<number> {
  const cp = controlPlaneFrom(args, logger);
  await cp.start();
  onSignal(() => cp.stop());
  return new Promise<number>(() => undefined);
}

async function cmdCompanion(name: string, args: ParsedArgs, logger: Logger): Promise<number> {
  const def = COMPANIONS.find((c) => c.name === name)!;
  const xds = hostPort(strFlag(args, 'xds', '127.0.0.1:18000'), 'xds');
  const running = await def.start({
    xds, host: strFlag(args, 'host', '127.0.0.1'), port: intFlag(args, 'port', def.defaultPort),
    nodeId: strFlag(args, 'node-id', `${name}-${hostname()}-${process.pid}`), logger: logger.child({ companion: name }), flags: args.flags,
  });
  logger.info({ companion: name, port: running.port }, 'companion listening');
  onSignal(() => running.stop());
  return new Promise<number>(() => undefined);
}

async function cmdStart(args: ParsedArgs, logger: Logger): Promise<number> {
  const cp = controlPlaneFrom(args, logger, 'config');
  const { xdsPort } = await cp.start();
  const companions: RunningCompanion[] = [];
  for (const def of COMPANIONS) {
    const settings = settingsFrom(args) as unknown as Record<string, { host: string; port: number } | undefined>;
    const at = settings[def.name] ?? { host: '127.0.0.1', port: def.defaultPort };
    companions.push(await def.start({
      xds: { host: '127.0.0.1', port: xdsPort }, host: at.host, port: at.port,
      nodeId: `${def.name}-${hostname()}`, logger: logger.child({ companion: def.name }), flags: args.flags,
    }));
  }
  const envoy = await EnvoyProcess.start({
    bootstrapYaml: bootstrapYaml({
      xds: { host: '127.0.0.1', port: xdsPort }, nodeId: strFlag(args, 'node-id', `frontdesk-${hostname()}`),
      cluster: strFlag(args, 'cluster', 'frontdesk'), adminPort: intFlag(args, 'envoy-admin-port', 9901), delta: args.flags.has('delta'),
    }),
    logger, inheritOutput: true, logLevel: strFlag(args, 'envoy-log-level', 'warning'),
  });
  let stopping = false;
  const stop = async () => { stopping = true; await envoy.stop(); await Promise.all(companions.map((c) => c.stop())); await cp.stop(); };
  onSignal(stop, logger);
  envoy.exitedPromise().then(async (code) => {
    if (stopping) return;
    logger.error({ code }, 'envoy exited; stopping');
    await Promise.all(companions.map((c) => c.stop()));
    await cp.stop();
    process.exit(1);
  });
  await envoy.waitReady(60_000).then(() => logger.info({ proxy: intFlag(args, 'proxy-port', 8000) }, 'gateway ready'));
  return new Promise<number>(() => undefined);
}

/** The `frontdesk` command. */
export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, BOOLEANS);
  const cmd = args.positionals[0];
  if (!cmd || args.flags.has('help')) { process.stdout.write(`${USAGE}\n`); return cmd ? 0 : 2; }
  const logger = createLogger();
  try {
    switch (cmd) {
      case 'validate': return await cmdValidate(args);
      case 'translate': return await cmdTranslate(args);
      case 'bootstrap': return await cmdBootstrap(args);
      case 'control-plane': return await cmdControlPlane(args, logger);
      case 'start': return await cmdStart(args, logger);
      default:
        if (COMPANIONS.some((c) => c.name === cmd)) return await cmdCompanion(cmd, args, logger);
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) { process.stderr.write(`frontdesk: ${e.message}\n\n${USAGE}\n`); return 2; }
    throw e;
  }
}
