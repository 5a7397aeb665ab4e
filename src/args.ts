/** A tiny flag parser: `--name value`, `--name=value`, `--flag`; positionals kept in order. */
export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
}

export function parseArgs(argv: string[], booleans: readonly string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) { positionals.push(a); continue; }
    const eq = a.indexOf('=');
    if (eq > 0) { flags.set(a.slice(2, eq), a.slice(eq + 1)); continue; }
    const name = a.slice(2);
    const next = argv[i + 1];
    if (booleans.includes(name) || next === undefined || next.startsWith('--')) flags.set(name, true);
    else { flags.set(name, next); i++; }
  }
  return { positionals, flags };
}

/** `HOST:PORT` → parts; a bare port means 127.0.0.1. */
export function hostPort(s: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[?([^\]]*?)\]?:)?(\d{1,5})$/.exec(s);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--${flag} takes HOST:PORT, got "${s}"`);
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}

/** `HOST:PORT[,HOST:PORT...]`: a control plane's replicas, in the order to try them. */
export function hostPortList(s: string, flag: string): { host: string; port: number }[] {
  const parts = s.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw new UsageError(`--${flag} takes HOST:PORT or a list HOST:PORT,HOST:PORT, got "${s}"`);
  return parts.map((p) => hostPort(p, flag));
}

export class UsageError extends Error {}

export function intFlag(args: ParsedArgs, name: string, def: number): number {
  const v = args.flags.get(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (v === true || !Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${name} takes a port number, got "${v === true ? '' : v}"`);
  return n;
}

export function strFlag(args: ParsedArgs, name: string, def: string): string;
export function strFlag(args: ParsedArgs, name: string): string | undefined;
export function strFlag(args: ParsedArgs, name: string, def?: string): string | undefined {
  const v = args.flags.get(name);
  if (v === undefined) return def;
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v;
}
