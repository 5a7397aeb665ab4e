/**
 * The one catalogue of user-facing errors. Every diagnostic Frontdesk reports names a code
 * from here; the message says what is wrong and the hint says what to do about it.
 * Exceptions are kept for programmer bugs; a user's mistake is always a Diagnostic.
 */

export type Severity = 'error' | 'warning';
export type YamlPath = ReadonlyArray<string | number>;

export interface Diagnostic {
  code: string;
  severity: Severity;
  message: string;
  hint?: string;
  /** Path inside the YAML document, e.g. ['services', 0, 'routes', 1, 'paths', 0]. */
  path: YamlPath;
  file?: string;
  line?: number;
  col?: number;
}

interface Entry<A extends unknown[]> {
  severity: Severity;
  message: (...args: A) => string;
  /** What to do about it: every entry has one (a unit test walks the catalogue). */
  hint: (...args: A) => string;
}

function entry<A extends unknown[]>(
  severity: Severity,
  message: (...args: A) => string,
  hint: (...args: A) => string,
): Entry<A> {
  return { severity, message, hint };
}

const didYouMean = (s?: string) => (s ? `did you mean "${s}"?` : undefined);

export const catalogue = {
  // ---- loading --------------------------------------------------------------------------
  FD_YAML_SYNTAX: entry('error', (msg: string) => `YAML syntax error: ${msg}`, () => 'fix the YAML syntax at this position'),
  FD_YAML_DUPLICATE_KEY: entry('error', (key: string) => `duplicate key "${key}" with a different value`, () => 'remove one of the two keys; Kong would keep only the last one'),
  FD_YAML_DUPLICATE_KEY_SAME: entry('warning', (key: string) => `duplicate key "${key}" with the same value`, () => 'remove one of the two; Kong keeps the last, which changes nothing here'),
  FD_YAML_TOO_DEEP: entry('error', (max: number) => `the YAML nests deeper than ${max} levels here`, () => 'flatten the structure: a gateway file needs far fewer levels (the bound keeps the parser from exhausting its stack)'),
  FD_YAML_ALIAS_EXPANSION: entry('error', (max: number) => `aliases expand to more than ${max} values from here on (an alias bomb, "billion laughs")`, () => 'write the values out or use fewer, smaller aliases; expansion is bounded so a small file cannot exhaust the control plane'),
  FD_CONFIG_EMPTY: entry('error', () => 'the configuration is empty', () => 'start the file with _format_version: "3.0"'),
  FD_CONFIG_NOT_MAPPING: entry('error', () => 'the configuration must be a mapping at the top level', () => 'start the file with _format_version: "3.0"'),
  FD_NO_CONFIG_FILES: entry('error', (dir: string) => `no *.yaml or *.yml files in ${dir}`, () => 'point --config at a YAML file or a folder that holds some'),
  FD_READ_FAILED: entry('error', (file: string, why: string) => `cannot read ${file}: ${why}`, () => 'check the path and its permissions'),
  // ---- schema ---------------------------------------------------------------------------
  FD_FORMAT_VERSION: entry('error', (got: string) => `unsupported _format_version ${got}`, () => 'use _format_version: "3.0" (1.1 and 2.1 files are converted)'),
  FD_FORMAT_MISSING: entry('error', () => '_format_version is missing', () => 'add _format_version: "3.0" at the top of the file'),
  FD_FORMAT_CONVERTED: entry('warning', (from: string, n: number) => `_format_version ${from}: ${n} regex path(s) converted to 3.0 syntax (prefixed with "~"), as deck convert does`, () => 'run the file through deck convert, or add "~" to regex paths and set _format_version: "3.0"'),
  FD_KONG_NOT_SERVED: entry('error', (key: string, why: string, _todo: string) => `"${key}" is Kong's, and Frontdesk does not serve it: ${why}`, (key: string, _w: string, todo: string) => todo || `remove "${key}", or leave it at Kong's default`),
  FD_UNKNOWN_KEY: entry('error', (key: string, _suggest?: string) => `unknown key "${key}"`, (_key: string, suggest?: string) => didYouMean(suggest) ?? 'remove it; unknown keys are refused so that a typo never switches a policy off'),
  FD_WRONG_TYPE: entry('error', (msg: string) => msg, () => 'see docs/configuration.md for the field\'s type'),
  FD_REQUIRED: entry('error', (field: string) => `"${field}" is required`, (field: string) => `add ${field}`),
  FD_INVALID_VALUE: entry('error', (msg: string, _hint?: string) => msg, (_msg: string, hint?: string) => hint ?? 'change the value to one the field accepts (docs/configuration.md describes each field; Kong\'s own rules apply)'),
  FD_DUPLICATE_NAME: entry('error', (kind: string, name: string, firstAt: string) => `duplicate ${kind} "${name}" (first defined at ${firstAt})`, () => 'give each one a unique name'),
  FD_DANGLING_REF: entry('error', (kind: string, name: string, suggest?: string) => `unknown ${kind} "${name}"`, (kind: string, _n: string, suggest?: string) => didYouMean(suggest) ?? `define the ${kind} or fix the reference`),
  FD_UNKNOWN_PLUGIN: entry('error', (name: string, _suggest?: string) => `unknown plugin "${name}"`, (_n: string, suggest?: string) => didYouMean(suggest) ?? 'see docs/plugins.md for the plugins Frontdesk serves'),
  FD_PLUGIN_NOT_IMPLEMENTED: entry('error', (name: string, _why?: string) => `plugin "${name}" is a Kong plugin that Frontdesk does not serve yet`, (_n: string, why?: string) => (why ? `${why}; remove it or set enabled: false` : 'remove it or set enabled: false; see docs/plugins.md')),
  FD_PLUGIN_PENDING: entry('warning', (name: string) => `plugin "${name}" loads but is not applied by this version of Frontdesk`, () => 'see docs/plugins.md for what each plugin does today'),
  FD_PLUGIN_DIFFERS: entry('warning', (name: string, what: string) => `plugin "${name}": ${what}`, () => 'see docs/plugins.md for where Frontdesk differs from Kong'),
  FD_PROTO_NOT_FOUND: entry('error', (path: string, why: string) => `cannot read the proto file "${path}": ${why}`, () => 'a relative path is read beside the YAML file that names it'),
  FD_PROTO_INVALID: entry('error', (msg: string) => `the proto file does not compile: ${msg}`, () => 'fix the .proto (imports resolve beside it and against the googleapis protos, e.g. google/api/annotations.proto)'),
  FD_PLUGIN_SCOPE: entry('error', (name: string, scope: string) => `plugin "${name}" cannot be attached to a ${scope}`, () => 'attach it to a route, a service or globally'),
  FD_TRACING_EXPORTERS: entry('error', (name: string, where: string, firstName: string, firstWhere: string) => `${name} on ${where} exports spans differently from ${firstName} on ${firstWhere}`, () => "Envoy's tracer has one exporter per listener: give every tracing plugin the same plugin, endpoint, headers, resource_attributes and timeouts (sampling rates may differ per route)"),
  FD_PLUGIN_DUPLICATE: entry('error', (name: string, where: string) => `plugin "${name}" is configured twice on ${where}`, () => 'keep one instance per scope'),
  FD_CERT_FILE: entry('error', (path: string, why: string) => `cannot use the PEM file "${path}": ${why}`, () => 'a relative path is read beside the YAML file that names it; a mesh agent writes the key before the certificate (the last good config keeps serving meanwhile)'),
  FD_STREAM_PLUGIN: entry('error', (plugin: string, route: string) => `plugin "${plugin}" would apply to the stream route "${route}", and plugins are not served on stream routes`, () => 'scope the plugin to HTTP routes or services, or remove it; stream routes are proxied by Envoy\'s tcp_proxy alone'),
  FD_MESH_NEEDS_TLS: entry('error', (service: string) => `service "${service}" has a mesh identity or ALPN but does not speak TLS to its upstream`, () => 'set protocol: https (or grpcs, wss), or an https:// url; a mesh sidecar is reached over mTLS'),
  FD_MESH_NEEDS_VERIFY: entry('error', (service: string) => `service "${service}" names mesh identities without tls_verify: true, so they would never be checked`, () => 'set tls_verify: true (and ca_certificates: the mesh\'s trust bundle)'),
  FD_FIELD_NOT_IMPLEMENTED: entry('error', (field: string, why: string) => `"${field}" asks for behaviour Frontdesk does not implement: ${why}`, () => 'leave the field at Kong\'s default (or null)'),
  FD_FIELD_NOT_APPLIED: entry('warning', (field: string, why: string) => `"${field}" loads but is not applied: ${why}`, () => 'remove it or leave it at Kong\'s default; docs/configuration.md says what Frontdesk does instead'),
  FD_URL_AND_PARTS: entry('error', () => 'a service sets url together with protocol/host/port/path that disagree', () => 'use url alone, or protocol/host/port/path alone'),
  FD_SERVICE_NO_HOST: entry('error', () => 'a service needs url or host', () => 'add url: http://host:port/path'),
  FD_BAD_HOST: entry('error', (host: string, why: string) => `invalid host "${host}": ${why}`, () => 'write a hostname (letters, digits, "-", "." and "_") or an IP address; Kong refuses placeholders such as <my-host> too'),
  FD_BAD_URL: entry('error', (url: string) => `"${url}" is not a valid service url`, () => 'write it as protocol://host[:port][/path], e.g. http://orders:8080'),
  FD_BAD_REGEX: entry('error', (re: string, why: string) => `regex "${re}" does not compile: ${why}`, () => 'Envoy uses RE2: no look-arounds or back-references'),
  FD_ROUTE_NO_MATCH: entry('error', () => 'a route needs at least one of paths, hosts, methods, headers or snis', () => 'add paths: [/prefix]'),
  FD_SERVICELESS_PLUGINS: entry('error', (route: string, answering: string, before: string[]) => `route "${route}" has no service: ${answering} answers it and no other plugin runs on it, where Kong runs ${before.join(', ')} first`, (_r: string, _a: string, before: string[] = []) => `give the route a service (it is never proxied to), or remove ${before.join(', ') || 'the other plugins'} from it`),
  FD_ROUTE_PATH_SLASH: entry('error', (p: string) => `path "${p}" must start with "/" (or "~" for a regex)`, () => 'write it as /prefix or ~/regex'),
  FD_LISTENER_PORT_CLASH: entry('error', (port: number, other: string) => `port ${port} is already used by listener "${other}"`, () => 'give each listener its own address:port'),
  FD_UNKNOWN_CERTIFICATE: entry('error', (ref: string) => `unknown certificate "${ref}"`, () => 'list it under certificates (by id, or by one of its snis)'),
  // ---- operational traps (warnings) ----------------------------------------------------
  FD_TRAP_DEFAULT_TIMEOUT: entry('warning', (svc: string) => `service "${svc}" keeps Kong's 60 s default timeouts`, () => 'set connect_timeout (3000-5000) and read_timeout/write_timeout (10000-30000) in ms'),
  FD_TRAP_ADMIN_UPSTREAM: entry('warning', (what: string, host: string, port: number) => `${what} targets ${host}:${port}, Frontdesk's admin port: anyone who reaches the proxy reads and, with the admin token, rewrites the control plane`, () => 'point the service at a real upstream; the admin API belongs on loopback, reached directly, never through the proxy'),
  FD_TRAP_NO_SIZE_LIMIT: entry('warning', (route: string) => `route "${route}" accepts request bodies of any size`, () => 'add request-size-limiting (allowed_payload_size) to the route or its service'),
  FD_CIRCUIT_CAPPED: entry('warning', (svc: string, n: number, field: string, admitted: number) => `service "${svc}" can have at most ${n} requests in flight or queued (circuit_breaker.${field}); the gateway admits ${admitted} connections and Kong would pass every request on, while Envoy answers 503 past ${n}`, () => 'raise the threshold, or keep it if shedding above it is what you want (docs/circuit-breaking.md)'),
  FD_CIRCUIT_RETRIES_CAPPED: entry('warning', (svc: string, n: number, retries: number) => `service "${svc}" allows ${n} retries at once (circuit_breaker.max_retries); Kong retries every failed try up to retries (${retries}) times, whatever the other requests do`, () => 'use retry_budget (percent of the active requests, with min_concurrency) or leave both unset for Frontdesk\'s budget (docs/circuit-breaking.md)'),
  FD_PASSIVE_STATUSES_INEXACT: entry('warning', (upstream: string, why: string) => `upstream "${upstream}": passive health check statuses are not counted exactly: ${why}`, () => 'list 502, 503, 504 (counted exactly as gateway errors) or every 5xx; or use the outlier_detection extension (docs/circuit-breaking.md)'),
  // ---- translation ----------------------------------------------------------------------
  FD_BUILD_LIMIT: entry('error', (why: string) => `the build was stopped: ${why}`, () => 'the config is too big to build within the control plane\'s time and memory bounds: split it into smaller configs; the last good config keeps serving'),
  FD_TRANSLATE: entry('error', (msg: string) => `cannot translate: ${msg}`, () => 'a valid configuration that cannot be translated is a Frontdesk bug: report it with the file; the last good config keeps serving'),
  FD_ROUTE_NEVER_MATCHES: entry('error', (name: string, field: string, reason: string) => `route configuration "${name}": ${field}: ${reason}; the route could never match`, () => 'remove the control character from the path (percent-encode it if the upstream expects it)'),
  FD_ENVOY_REJECTS: entry('error', (kind: string, name: string, field: string, reason: string) => `Envoy would refuse ${kind} "${name}": ${field}: ${reason}`, () => 'fix the value of this entity; Envoy refuses the whole resource, so nothing of this edit is pushed and the last good config keeps serving'),
  // ---- authz (issue 3) --------------------------------------------------------------------
  FD_AUTHZ_JWT_SECRET: entry('error', (key: string, problem: string) => `jwt_secret "${key}": ${problem}`, () => 'fix the secret so its algorithm fits its key (src/jwt-keys.ts jwtSecretProblem says why)'),
  FD_AUTHZ_DUPLICATE_CREDENTIAL: entry('error', (kind: string, consumer: string, other: string) => `${kind} credential of consumer "${consumer}" repeats one of consumer "${other}"`, (kind: string) => `each ${kind} credential must be unique across consumers; Frontdesk would keep only the first`),
  FD_AUTHZ_ACL_WITHOUT_AUTH: entry('warning', (route: string) => `route "${route}" has the acl plugin but no jwt, key-auth, ldap-auth, basic-auth, hmac-auth or session plugin: every request gets 401, as in Kong`, () => 'add an auth plugin (or session) to the route, its service or globally'),
  FD_AUTHZ_UNKNOWN_ANONYMOUS: entry('error', (plugin: string, ref: string) => `${plugin}: anonymous consumer "${ref}" does not exist`, () => 'name an existing consumer by id or username; otherwise failed authentications get 500, as in Kong'),
  FD_AUTHZ_HMAC_NO_SECRET: entry('error', (username: string) => `hmacauth_credential "${username}" has no secret: Kong would generate a random one, which no client could sign with`, () => 'write the secret the consumer signs with (a decK dump of a Kong gateway carries the one Kong generated)'),
  FD_AUTHZ_JWT_NO_KEY: entry('warning', () => 'jwt_secret has no key: Kong would generate a random one; Frontdesk ignores the secret', () => 'set key to the value of the tokens\' key claim (iss by default)'),
  // ---- ratelimit (issue 4) ----------------------------------------------------------------
} as const;

export type Code = keyof typeof catalogue;
type ArgsOf<C extends Code> = (typeof catalogue)[C] extends Entry<infer A> ? A : never;

/** The catalogue seen through its codes: each entry's arguments are those of its code (checked entry by entry). */
const entries: { [C in Code]: Entry<ArgsOf<C>> } = catalogue;

/** Builds a Diagnostic from a catalogue code; the location is filled in by the loader. */
export function diag<C extends Code>(code: C, path: YamlPath, ...args: ArgsOf<C>): Diagnostic {
  const e: Entry<ArgsOf<C>> = entries[code];
  return { code, severity: e.severity, message: e.message(...args), hint: e.hint(...args), path };
}

/** `file:line:col: severity: message (hint)` — the one format the CLI and logs use. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file ?? '<config>'}:${d.line ?? 1}:${d.col ?? 1}`;
  const yamlPath = d.path.length ? ` [${formatPath(d.path)}]` : '';
  return `${where}: ${d.severity}: ${d.message}${yamlPath}${d.hint ? `\n    hint: ${d.hint}` : ''}`;
}

export function formatPath(path: YamlPath): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s;
}

/** Closest candidate by edit distance, when close enough to be a likely typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) { bestD = d; best = c; }
  }
  return best !== undefined && bestD < word.length && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diagPrev = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diagPrev + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagPrev = tmp;
    }
  }
  return prev[b.length]!;
}
