/**
 * Bad configurations: each inline YAML must be refused (or warned about) with the exact
 * catalogue code, at the right line:col, with a message that says what is wrong and, where a
 * name is close, a "did you mean". A user's mistake is a diagnostic, never an exception.
 *
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDiagnostic, type Diagnostic } from '../../src/errors.js';
import { loadConfig, type LoadResult } from '../../src/model/load.js';

/** YAML written flush-left in a template literal; the first newline is dropped, so line 1 is the first line. */
const y = (s: string) => s.replace(/^\n/, '');

function load(text: string | Record<string, string>): LoadResult {
  const texts = typeof text === 'string' ? [{ file: 'gateway.yaml', text }] : Object.entries(text).map(([file, t]) => ({ file, text: t }));
  return loadConfig(texts);
}

const errors = (r: LoadResult) => r.diagnostics.filter((d) => d.severity === 'error');
const warnings = (r: LoadResult) => r.diagnostics.filter((d) => d.severity === 'warning');

interface Expect {
  code: string;
  /** "line:col" */
  at: string;
  message: string | RegExp;
  hint?: string | RegExp;
  file?: string;
  severity?: 'error' | 'warning';
}

function check(d: Diagnostic | undefined, e: Expect): void {
  assert.ok(d, `expected a ${e.code} diagnostic`);
  const show = formatDiagnostic(d);
  assert.equal(d.code, e.code, show);
  assert.equal(d.severity, e.severity ?? 'error', show);
  assert.equal(`${d.line}:${d.col}`, e.at, `position of ${show}`);
  assert.equal(d.file, e.file ?? 'gateway.yaml', show);
  if (typeof e.message === 'string') assert.ok(d.message.includes(e.message), `message of ${show} should include ${JSON.stringify(e.message)}`);
  else assert.match(d.message, e.message, show);
  if (e.hint !== undefined) {
    assert.ok(d.hint, `${show} has no hint`);
    if (typeof e.hint === 'string') assert.equal(d.hint, e.hint, show);
    else assert.match(d.hint, e.hint, show);
  }
}

/** The file is refused with exactly one error, the expected one. */
function refusedWith(text: string | Record<string, string>, e: Expect): LoadResult {
  const r = load(text);
  assert.equal(r.model, undefined, 'a file with an error yields no model');
  const errs = errors(r);
  assert.equal(errs.length, 1, `expected exactly one error, got:\n${errs.map(formatDiagnostic).join('\n')}`);
  check(errs[0], e);
  return r;
}

/** A service block with short timeouts, so that no timeout warning gets in the way. */
const SVC = (name: string, url = `http://${name}.internal:8080`) => `  - name: ${name}
    url: ${url}
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000`;

describe('YAML and file shape', () => {
  test('a YAML syntax error points at the offending value', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
  - name: a
    url: http://a: b
`), { code: 'FD_YAML_SYNTAX', at: '4:10', message: /^YAML syntax error: Nested mappings are not allowed/, hint: 'fix the YAML syntax at this position' });
  });

  test('a tab used for indentation is a syntax error at its line', () => {
    refusedWith('_format_version: "3.0"\nservices:\n\t- name: a\n', { code: 'FD_YAML_SYNTAX', at: '3:1', message: 'Tabs are not allowed as indentation' });
  });

  test('a duplicate key is reported at the second occurrence, naming the key', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
  - name: a
    url: http://a
    name: b
`), { code: 'FD_YAML_DUPLICATE_KEY', at: '5:5', message: 'duplicate key "name" with a different value', hint: /keep only the last/ });
  });

  test('a duplicate key with the same value is a warning (Kong keeps the last), and the file loads', () => {
    const r = loadConfig([{ file: 'kong.yml', text: y(`
_format_version: "3.0"
services:
  - name: a
    url: http://a.internal
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    url: http://a.internal
`) }]);
    assert.ok(r.model, r.diagnostics.map(formatDiagnostic).join('\n'));
    assert.equal(r.model.services[0]!.host, 'a.internal');
    assert.deepEqual(r.diagnostics.map((d) => [d.code, d.severity, `${d.line}:${d.col}`, d.message]), [
      ['FD_YAML_DUPLICATE_KEY_SAME', 'warning', '8:5', 'duplicate key "url" with the same value'],
    ]);
  });

  test('an empty file, a comment-only file and no file at all are "empty"', () => {
    refusedWith('', { code: 'FD_CONFIG_EMPTY', at: '1:1', message: 'the configuration is empty', hint: 'start the file with _format_version: "3.0"' });
    refusedWith('# nothing here yet\n', { code: 'FD_CONFIG_EMPTY', at: '1:1', message: 'the configuration is empty' });
    const none = loadConfig([]);
    assert.deepEqual(none.diagnostics.map((d) => d.code), ['FD_CONFIG_EMPTY']);
    assert.equal(none.model, undefined);
  });

  test('a top level that is a list or a scalar is not a mapping', () => {
    refusedWith('- name: a\n  url: http://a\n', { code: 'FD_CONFIG_NOT_MAPPING', at: '1:1', message: 'must be a mapping at the top level' });
    refusedWith('just a sentence\n', { code: 'FD_CONFIG_NOT_MAPPING', at: '1:1', message: 'must be a mapping' });
  });

  test('a missing _format_version is an error that says what to add', () => {
    refusedWith(y(`
services:
${SVC('a')}
`), { code: 'FD_FORMAT_MISSING', at: '1:1', message: '_format_version is missing', hint: 'add _format_version: "3.0" at the top of the file' });
  });

  test('an unsupported _format_version is reported on its value', () => {
    refusedWith('_format_version: "4.0"\n', { code: 'FD_FORMAT_VERSION', at: '1:18', message: 'unsupported _format_version "4.0"', hint: /1\.1 and 2\.1 files are converted/ });
  });

  test('an unquoted _format_version (a YAML number) is a wrong type, not a missing field', () => {
    refusedWith('_format_version: 3.0\n', { code: 'FD_WRONG_TYPE', at: '1:18', message: '"_format_version" must be a string' });
  });

  test('an unknown top-level key is refused with a did-you-mean', () => {
    refusedWith(y(`
_format_version: "3.0"
service:
${SVC('a')}
`), { code: 'FD_UNKNOWN_KEY', at: '2:1', message: 'unknown key "service"', hint: 'did you mean "services"?' });
  });

  test('an unknown key far from any known one says unknown keys are refused', () => {
    refusedWith('_format_version: "3.0"\nxyzzy: 1\n', { code: 'FD_UNKNOWN_KEY', at: '2:1', message: 'unknown key "xyzzy"', hint: /typo never switches a policy off/ });
  });

  test('a certificate\'s "_snis" key is refused like any unknown key', () => {
    refusedWith(y(`
_format_version: "3.0"
certificates:
  - id: c
    cert: "-----BEGIN CERTIFICATE-----"
    key: "-----BEGIN PRIVATE KEY-----"
    _snis: [api.example.com]
`), { code: 'FD_UNKNOWN_KEY', at: '6:5', message: 'unknown key "_snis"', hint: 'did you mean "snis"?' });
  });
});

describe('unknown keys in entities (with did-you-mean, at the key)', () => {
  const cases: Array<[string, string, string, string, string]> = [
    ['service', y(`
_format_version: "3.0"
services:
${SVC('a')}
    retires: 3
`), '8:5', 'retires', 'retries'],
    ['route', y(`
_format_version: "3.0"
services:
${SVC('a')}
    routes:
      - name: r
        path: [/a]
`), '10:9', 'path', 'paths'],
    ['upstream', y(`
_format_version: "3.0"
upstreams:
  - name: u
    algorith: round-robin
`), '4:5', 'algorith', 'algorithm'],
    ['target', y(`
_format_version: "3.0"
upstreams:
  - name: u
    targets:
      - target: 10.0.0.1:80
        weigth: 10
`), '6:9', 'weigth', 'weight'],
    ['consumer', y(`
_format_version: "3.0"
consumers:
  - usernme: alice
`), '3:5', 'usernme', 'username'],
    ['plugin', y(`
_format_version: "3.0"
plugins:
  - name: cors
    confg: {}
`), '4:5', 'confg', 'config'],
    ['healthcheck (deep inside an upstream)', y(`
_format_version: "3.0"
upstreams:
  - name: u
    healthchecks:
      active:
        healthy:
          intervall: 5
`), '7:11', 'intervall', 'interval'],
  ];
  for (const [where, text, at, key, suggestion] of cases) {
    test(`${where}: "${key}"`, () => {
      refusedWith(text, { code: 'FD_UNKNOWN_KEY', at, message: `unknown key "${key}"`, hint: `did you mean "${suggestion}"?` });
    });
  }
});

describe('routes without a service', () => {
  const serviceless = (routePlugins: string, global = '') => y(`
_format_version: "3.0"
routes:
  - name: moved
    hosts: [old.example.test]
    plugins:
${routePlugins}
consumers:
  - username: bob
    keyauth_credentials: [{ key: k1 }]
${global ? `plugins:\n${global}` : ''}
`);
  const REDIRECT = '      - name: redirect\n        config: { location: https://new.example.test }';

  test("one answered by redirect or request-termination is refused when Kong would run another plugin first (an auth plugin, its own or a global one)", () => {
    refusedWith(serviceless(`      - name: key-auth\n${REDIRECT}`), {
      code: 'FD_SERVICELESS_PLUGINS', at: '3:5',
      message: 'route "moved" has no service: redirect answers it and no other plugin runs on it, where Kong runs key-auth first',
    });
    refusedWith(serviceless('      - name: request-termination\n        config: { status_code: 200, body: members only }', '  - name: key-auth\n  - name: rate-limiting\n    config: { minute: 5 }'), {
      code: 'FD_SERVICELESS_PLUGINS', at: '3:5',
      message: 'route "moved" has no service: request-termination answers it and no other plugin runs on it, where Kong runs key-auth, rate-limiting first',
    });
  });

  test('one with only the answering plugin, the plugins Kong runs after it, or log plugins loads', () => {
    for (const plugins of [REDIRECT, `${REDIRECT}\n      - name: proxy-cache\n        config: { strategy: memory }`, `${REDIRECT}\n      - name: request-termination`, `${REDIRECT}\n      - name: file-log\n        config: { path: /tmp/frontdesk-test.log }`]) {
      const r = load(serviceless(plugins));
      assert.deepEqual(errors(r).map(formatDiagnostic), [], plugins);
    }
  });
});

describe('wrong types and values', () => {
  test('a port written as a string is a wrong type', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
  - name: a
    host: a
    port: "8080"
`), { code: 'FD_WRONG_TYPE', at: '5:11', message: '"port" must be a number' });
  });

  test("a plugin config field of the wrong type says so, not that it is required (the field has Kong's default)", () => {
    refusedWith(y(`
_format_version: "3.0"
plugins:
  - name: cors
    config:
      credentials: "yes"
`), { code: 'FD_WRONG_TYPE', at: '5:20', message: '"credentials" must be a boolean' });
    refusedWith(y(`
_format_version: "3.0"
plugins:
  - name: request-termination
    config: { status_code: "503" }
`), { code: 'FD_WRONG_TYPE', at: '4:28', message: '"status_code" must be a number' });
  });

  const namedByNumber: [string, string, string][] = [
    ['a route named by a number, with a plugin nested in it', y(`
_format_version: "3.0"
services:
${SVC('a')}
    routes:
      - name: 5
        paths: [/a]
        plugins:
          - name: cors
`), '9:15'],
    ['a service named by a number, beside another, with a plugin nested in it', y(`
_format_version: "3.0"
services:
${SVC('api')}
  - name: 5
    host: b
    plugins:
      - name: cors
`), '8:11'],
  ];
  for (const [what, text, at] of namedByNumber) {
    test(`${what}: one wrong type, not an exception`, () => {
      refusedWith(text, { code: 'FD_WRONG_TYPE', at, message: '"name" must be a string' });
    });
  }

  test('paths written as a string, not a list, is a wrong type', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
${SVC('a')}
    routes:
      - name: r
        paths: /a
`), { code: 'FD_WRONG_TYPE', at: '10:16', message: '"paths" must be a list' });
  });

  test('a wrong type is never reported as a missing field', () => {
    const r = load('_format_version: "3.0"\nservices: {}\n');
    assert.deepEqual(errors(r).map((d) => [d.code, `${d.line}:${d.col}`]), [['FD_WRONG_TYPE', '2:11']]);
  });

  test('a required field that is really missing is FD_REQUIRED', () => {
    refusedWith(y(`
_format_version: "3.0"
upstreams:
  - name: u
    targets:
      - weight: 10
`), { code: 'FD_REQUIRED', at: '5:9', message: '"target" is required', hint: 'add target' });
  });

  test('port 70000 is out of range', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
  - name: a
    host: a
    port: 70000
`), { code: 'FD_INVALID_VALUE', at: '5:11', message: /"port".*<=65535/ });
  });

  test('retries -1 is out of range', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
${SVC('a')}
    retries: -1
`), { code: 'FD_INVALID_VALUE', at: '8:14', message: /"retries".*>=0/ });
  });

  test('lower-case methods are refused, naming the rule', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
${SVC('a')}
    routes:
      - name: r
        paths: [/a]
        methods: [GET, post]
`), { code: 'FD_INVALID_VALUE', at: '11:24', message: 'methods are upper-case' });
  });

  test('a name with a space is refused', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
  - name: "orders service"
    url: http://orders
`), { code: 'FD_INVALID_VALUE', at: '3:11', message: /"name": names may hold letters, digits/ });
  });

  test('an https_redirect_status_code Kong does not accept lists the values it does', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
${SVC('a')}
    routes:
      - name: r
        paths: [/a]
        https_redirect_status_code: 305
`), { code: 'FD_INVALID_VALUE', at: '11:37', message: /426.*301.*302.*307.*308/ });
  });

  test('a certificate that is not PEM is refused on each field', () => {
    const r = load(y(`
_format_version: "3.0"
certificates:
  - id: c
    cert: not a pem
    key: nope
`));
    assert.deepEqual(errors(r).map((d) => [d.code, `${d.line}:${d.col}`, d.message]), [
      ['FD_INVALID_VALUE', '4:11', '"cert": cert must be a PEM certificate'],
      ['FD_INVALID_VALUE', '5:10', '"key": key must be a PEM private key'],
    ]);
  });
});

describe('services', () => {
  test('a url without a scheme is a bad url', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
  - name: a
    url: orders:8080
`), { code: 'FD_BAD_URL', at: '4:10', message: '"orders:8080" is not a valid service url', hint: /protocol:\/\/host\[:port\]/ });
  });

  test('a url with a scheme Kong does not know is a bad url', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
  - name: a
    url: ftp://files.internal
`), { code: 'FD_BAD_URL', at: '4:10', message: '"ftp://files.internal"' });
  });

  test('url and host that disagree are refused', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
  - name: a
    url: http://orders:8080
    host: billing
`), { code: 'FD_URL_AND_PARTS', at: '4:10', message: 'url together with protocol/host/port/path that disagree', hint: /url alone/ });
  });

  test('url with parts that agree with it loads', () => {
    const r = load(y(`
_format_version: "3.0"
services:
${SVC('a', 'http://orders:8080/v1')}
    host: orders
    port: 8080
    path: /v1
`));
    assert.deepEqual(errors(r), []);
    assert.equal(r.model?.services[0]?.host, 'orders');
  });

  test('the deep dive\'s upload-service snippet as written has no host: refused', () => {
    const r = refusedWith(y(`
_format_version: "3.0"
services:
  - name: upload-service
    plugins:
      - name: request-size-limiting
        config:
          allowed_payload_size: 10 # MB
          require_content_length: true
`), { code: 'FD_SERVICE_NO_HOST', at: '3:5', message: 'a service needs url or host', hint: 'add url: http://host:port/path' });
    assert.ok(r.diagnostics.every((d) => d.severity === 'warning' || d.code === 'FD_SERVICE_NO_HOST'));
  });

  test('a udp service is refused as not implemented, naming the field (tcp and tls streams are served)', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
  - name: a
    protocol: udp
    host: a
`), { code: 'FD_FIELD_NOT_IMPLEMENTED', at: '4:15', message: '"protocol: udp" asks for behaviour Frontdesk does not implement' });
  });

  test('an error in a service does not also report its routes as pointing at an unknown service', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
${SVC('a')}
    retires: 3
    routes:
      - name: r
        paths: [/a]
`), { code: 'FD_UNKNOWN_KEY', at: '8:5', message: 'unknown key "retires"' });
  });
});

describe('duplicate names', () => {
  test('two services with one name', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
${SVC('dup')}
${SVC('dup')}
`), { code: 'FD_DUPLICATE_NAME', at: '8:11', message: 'duplicate service "dup" (first defined at gateway.yaml:3:5)', hint: 'give each one a unique name' });
  });

  test('two routes with one name under different services', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
${SVC('a')}
    routes:
      - name: r
        paths: [/a]
${SVC('b')}
    routes:
      - name: r
        paths: [/b]
`), { code: 'FD_DUPLICATE_NAME', at: '17:15', message: 'duplicate route "r" (first defined at gateway.yaml:9:9)' });
  });

  test('two upstreams with one name', () => {
    refusedWith(y(`
_format_version: "3.0"
upstreams:
  - name: u
  - name: u
`), { code: 'FD_DUPLICATE_NAME', at: '4:11', message: 'duplicate upstream "u"' });
  });

  test('the same plugin twice on one scope', () => {
    refusedWith(y(`
_format_version: "3.0"
plugins:
  - name: cors
  - name: cors
`), { code: 'FD_PLUGIN_DUPLICATE', at: '4:5', message: 'plugin "cors" is configured twice on the global scope', hint: 'keep one instance per scope' });
  });
});

describe('references', () => {
  test('a route naming an unknown service gets a did-you-mean', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
${SVC('orders')}
routes:
  - name: r
    service: ordres
    paths: [/x]
`), { code: 'FD_DANGLING_REF', at: '10:14', message: 'unknown service "ordres"', hint: 'did you mean "orders"?' });
  });

  test('a route naming an unknown service by id ({id: ...})', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
${SVC('orders')}
routes:
  - name: r
    service:
      id: 5d1f0000-0000-4000-8000-000000000000
    paths: [/x]
`), { code: 'FD_DANGLING_REF', at: '11:7', message: 'unknown service "5d1f0000-0000-4000-8000-000000000000"', hint: 'define the service or fix the reference' });
  });

  test('plugins naming an unknown route, service or consumer: each reported on its field', () => {
    const r = load(y(`
_format_version: "3.0"
services:
${SVC('orders')}
    routes:
      - name: orders-route
        paths: [/o]
consumers:
  - username: alice
plugins:
  - name: cors
    route: orders-rute
  - name: cors
    service: order
  - name: cors
    consumer: alcie
`));
    const errs = errors(r);
    assert.equal(errs.length, 3, errs.map(formatDiagnostic).join('\n'));
    check(errs[0], { code: 'FD_DANGLING_REF', at: '15:12', message: 'unknown route "orders-rute"', hint: 'did you mean "orders-route"?' });
    check(errs[1], { code: 'FD_DANGLING_REF', at: '17:14', message: 'unknown service "order"', hint: 'did you mean "orders"?' });
    check(errs[2], { code: 'FD_DANGLING_REF', at: '19:15', message: 'unknown consumer "alcie"', hint: 'did you mean "alice"?' });
  });

  test('a credential naming an unknown consumer', () => {
    refusedWith(y(`
_format_version: "3.0"
consumers:
  - username: alice
keyauth_credentials:
  - consumer: alise
    key: k1
`), { code: 'FD_DANGLING_REF', at: '5:15', message: 'unknown consumer "alise"', hint: 'did you mean "alice"?' });
  });

  test('an acl naming an unknown consumer', () => {
    refusedWith(y(`
_format_version: "3.0"
consumers:
  - username: alice
acls:
  - consumer: bob
    group: admins
`), { code: 'FD_DANGLING_REF', at: '5:15', message: 'unknown consumer "bob"' });
  });

  test('a target naming an unknown upstream', () => {
    refusedWith(y(`
_format_version: "3.0"
upstreams:
  - name: pool
targets:
  - target: 10.0.0.1:80
    upstream: pol
`), { code: 'FD_DANGLING_REF', at: '6:15', message: 'unknown upstream "pol"', hint: 'did you mean "pool"?' });
  });

  test('a plugin naming a disabled route by name loads (the route is off, not unknown)', () => {
    const r = load(y(`
_format_version: "3.0"
services:
${SVC('a')}
    routes:
      - name: off
        paths: [/off]
        enabled: false
plugins:
  - name: cors
    route: off
`));
    assert.deepEqual(errors(r).map(formatDiagnostic), []);
  });
});

describe('plugins', () => {
  test('an unknown plugin close to a known one gets a did-you-mean', () => {
    refusedWith(y(`
_format_version: "3.0"
plugins:
  - name: rate-limitting
`), { code: 'FD_UNKNOWN_PLUGIN', at: '3:11', message: 'unknown plugin "rate-limitting"', hint: 'did you mean "rate-limiting"?' });
  });

  test('an unknown plugin far from any name points at the plugin list', () => {
    refusedWith(y(`
_format_version: "3.0"
plugins:
  - name: totally-unknown-thing
`), { code: 'FD_UNKNOWN_PLUGIN', at: '3:11', message: 'unknown plugin "totally-unknown-thing"', hint: /docs\/plugins\.md/ });
  });

  test('a Kong plugin Frontdesk does not serve (oauth2) is an error naming it', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
${SVC('a')}
    plugins:
      - name: oauth2
        config:
          scopes: [email]
`), { code: 'FD_PLUGIN_NOT_IMPLEMENTED', at: '9:15', message: 'plugin "oauth2" is a Kong plugin that Frontdesk does not serve yet', hint: /enabled: false/ });
  });
});

describe('routes', () => {
  test('a route with no match criteria', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
${SVC('a')}
    routes:
      - name: r
        strip_path: false
`), { code: 'FD_ROUTE_NO_MATCH', at: '9:9', message: 'a route needs at least one of paths, hosts, methods, headers or snis', hint: 'add paths: [/prefix]' });
  });

  test('a path that starts with neither / nor ~', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
${SVC('a')}
    routes:
      - name: r
        paths: [/ok, api/v1]
`), { code: 'FD_ROUTE_PATH_SLASH', at: '10:22', message: 'path "api/v1" must start with "/" (or "~" for a regex)', hint: 'write it as /prefix or ~/regex' });
  });

  test('a regex path with a look-ahead (not RE2)', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
${SVC('a')}
    routes:
      - name: r
        paths: ["~/users/(?!admin)"]
`), { code: 'FD_BAD_REGEX', at: '10:17', message: 'regex "/users/(?!admin)" does not compile: invalid or unsupported Perl syntax: `(?!`', hint: /RE2/ });
  });

  test('a regex path with a back-reference', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
${SVC('a')}
    routes:
      - name: r
        paths: ["~/(a)/\\\\1"]
`), { code: 'FD_BAD_REGEX', at: '10:17', message: 'invalid escape sequence: `\\1`' });
  });

  test('a header regex with a look-behind', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
${SVC('a')}
    routes:
      - name: r
        paths: [/a]
        headers:
          x-v: ["~*(?<=a)b"]
`), { code: 'FD_BAD_REGEX', at: '12:17', message: 'regex "(?<=a)b" does not compile' });
  });

  test('RE2 syntax Kong accepts, (?i) and (?P<name>...), loads', () => {
    const r = load(y(`
_format_version: "3.0"
services:
${SVC('a')}
    routes:
      - name: r
        paths: ["~(?i)/users/(?P<id>\\\\d+)"]
`));
    assert.deepEqual(errors(r).map(formatDiagnostic), []);
  });

  test('a regex RE2 refuses (\\Z) is refused before Envoy sees it', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
${SVC('a')}
    routes:
      - name: r
        paths: ["~/users\\\\Z"]
`), { code: 'FD_BAD_REGEX', at: '10:17', message: 'regex "/users\\Z"' });
  });
});

describe('upstreams and targets', () => {
  test('malformed targets: a port out of range and a host with a space', () => {
    const r = load(y(`
_format_version: "3.0"
upstreams:
  - name: u
    targets:
      - target: "10.0.0.1:99999"
      - target: "host with space:80"
`));
    const errs = errors(r);
    assert.equal(errs.length, 2);
    check(errs[0], { code: 'FD_INVALID_VALUE', at: '5:17', message: 'target "10.0.0.1:99999" is not host:port', hint: 'write it as host:port, e.g. 10.0.0.5:8080' });
    check(errs[1], { code: 'FD_INVALID_VALUE', at: '6:17', message: 'target "host with space:80" is not host:port' });
  });

  test('a target with no host', () => {
    refusedWith(y(`
_format_version: "3.0"
upstreams:
  - name: u
    targets:
      - target: ":80"
`), { code: 'FD_INVALID_VALUE', at: '5:17', message: 'target ":80" is not host:port' });
  });

  test('algorithm latency asks for behaviour Envoy lacks', () => {
    refusedWith(y(`
_format_version: "3.0"
upstreams:
  - name: u
    algorithm: latency
`), { code: 'FD_FIELD_NOT_IMPLEMENTED', at: '4:16', message: '"algorithm: latency" asks for behaviour Frontdesk does not implement', hint: /Kong's default/ });
  });
});

describe('Kong fields that ask for behaviour Frontdesk lacks are errors naming the field, never ignored', () => {
  // CONFIG.md: "when it asks for behaviour Frontdesk lacks, it is an error naming the field —
  // never silently ignored". Each of these loads today without a word.
  const cases: Array<[string, string, string]> = [
    ['plugin consumer_group (the plugin would become global)', y(`
_format_version: "3.0"
plugins:
  - name: cors
    consumer_group: gold
`), '4:21'],
    ['upstream use_srv_name: true', y(`
_format_version: "3.0"
upstreams:
  - name: u
    use_srv_name: true
`), '4:19'],
    ['upstream hash_on: uri_capture (no hash policy is emitted)', y(`
_format_version: "3.0"
upstreams:
  - name: u
    algorithm: consistent-hashing
    hash_on: uri_capture
    hash_on_uri_capture: id
`), '5:14'],
  ];
  for (const [what, text, at] of cases) {
    test(what, () => {
      refusedWith(text, { code: 'FD_FIELD_NOT_IMPLEMENTED', at, message: 'asks for behaviour Frontdesk does not implement' });
    });
  }

  test('a service naming an unknown CA certificate', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
${SVC('a', 'https://a')}
    tls_verify: true
    ca_certificates: [nope]
`), { code: 'FD_DANGLING_REF', at: '9:23', message: 'nope' });
  });

  test('a service whose client_certificate names no certificate', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
  - name: a
    url: https://a
    client_certificate:
      id: 4a4a0000-0000-4000-8000-000000000001
`), { code: 'FD_DANGLING_REF', at: '6:7', message: 'unknown certificate "4a4a0000-0000-4000-8000-000000000001"' });
  });
});

describe('listeners (extension)', () => {
  test('two listeners on one port', () => {
    refusedWith(y(`
_format_version: "3.0"
listeners:
  - name: one
    port: 8000
  - name: two
    port: 8000
`), { code: 'FD_LISTENER_PORT_CLASH', at: '6:11', message: 'port 8000 is already used by listener "one"', hint: 'give each listener its own address:port' });
  });

  test('the same port on two fleets is no clash', () => {
    const r = load(y(`
_format_version: "3.0"
listeners:
  - name: mobile
    port: 8000
    fleet: mobile
  - name: web
    port: 8000
    fleet: web
`));
    assert.deepEqual(errors(r), []);
  });

  test('an https listener naming an unknown certificate', () => {
    refusedWith(y(`
_format_version: "3.0"
listeners:
  - name: tls
    port: 8443
    protocol: https
    certificates: [missing-cert]
`), { code: 'FD_UNKNOWN_CERTIFICATE', at: '6:20', message: 'unknown certificate "missing-cert"', hint: /by id, or by one of its snis/ });
  });

  test('a route naming an unknown listener gets a did-you-mean', () => {
    refusedWith(y(`
_format_version: "3.0"
listeners:
  - name: public
    port: 8000
services:
${SVC('a')}
    routes:
      - name: r
        paths: [/a]
        listeners: [pubic]
`), { code: 'FD_DANGLING_REF', at: '14:21', message: 'unknown listener "pubic"', hint: 'did you mean "public"?' });
  });
});

describe('several errors at once', () => {
  test('every error of a file is reported in one pass, in file order', () => {
    const r = load(y(`
_format_version: "3.0"
services:
${SVC('a')}
    routes:
      - name: r1
        paths: [nope]
${SVC('a')}
  - name: c
    host: c
    port: 99999
plugins:
  - name: oauth2
  - name: rate-limitting
upstreams:
  - name: u
    targets:
      - target: ":80"
`));
    assert.equal(r.model, undefined);
    assert.deepEqual(errors(r).map((d) => [d.code, `${d.line}:${d.col}`]), [
      ['FD_ROUTE_PATH_SLASH', '10:17'],
      ['FD_DUPLICATE_NAME', '11:11'],
      ['FD_INVALID_VALUE', '18:11'],
      ['FD_PLUGIN_NOT_IMPLEMENTED', '20:11'],
      ['FD_UNKNOWN_PLUGIN', '21:11'],
      ['FD_INVALID_VALUE', '25:17'],
    ]);
  });

  test('errors across the files of a folder carry their own file names, sorted by file', () => {
    const r = load({
      'a-services.yaml': y(`
_format_version: "3.0"
services:
${SVC('orders')}
    routes:
      - name: shared
        paths: [/o]
consumers:
  - username: alice
    custom_idd: 7
`),
      'b-routes.yaml': y(`
_format_version: "3.0"
routes:
  - name: shared
    service: orders
    paths: [/p]
  - name: other
    service: ordrs
    paths: [/q]
`),
    });
    const errs = errors(r);
    assert.equal(errs.length, 3, errs.map(formatDiagnostic).join('\n'));
    check(errs[0], { file: 'a-services.yaml', code: 'FD_UNKNOWN_KEY', at: '13:5', message: 'unknown key "custom_idd"', hint: 'did you mean "custom_id"?' });
    check(errs[1], { file: 'b-routes.yaml', code: 'FD_DUPLICATE_NAME', at: '3:11', message: 'duplicate route "shared" (first defined at a-services.yaml:9:9)' });
    check(errs[2], { file: 'b-routes.yaml', code: 'FD_DANGLING_REF', at: '7:14', message: 'unknown service "ordrs"', hint: 'did you mean "orders"?' });
  });

  test('formatDiagnostic prints file:line:col, severity, message, YAML path and hint', () => {
    const r = load(y(`
_format_version: "3.0"
services:
${SVC('a')}
    retires: 3
`));
    assert.equal(formatDiagnostic(errors(r)[0]!), 'gateway.yaml:8:5: error: unknown key "retires" [services[0].retires]\n    hint: did you mean "retries"?');
  });
});

describe('warnings: the file loads, with advice', () => {
  test('Kong\'s 60 s default timeouts are a known trap', () => {
    const r = load(y(`
_format_version: "3.0"
services:
  - name: orders
    url: http://orders:8080
`));
    assert.ok(r.model, 'a warning does not stop the load');
    assert.equal(warnings(r).length, 1);
    check(warnings(r)[0], {
      severity: 'warning', code: 'FD_TRAP_DEFAULT_TIMEOUT', at: '3:5', message: 'service "orders" keeps Kong\'s 60 s default timeouts',
      hint: 'set connect_timeout (3000-5000) and read_timeout/write_timeout (10000-30000) in ms',
    });
    assert.deepEqual(warnings(load(`_format_version: "3.0"\nservices:\n${SVC('orders')}\n`)), [], 'no warning once the timeouts are set');
  });

  test('a read/write timeout left at 60 s is still the trap', () => {
    const r = load(y(`
_format_version: "3.0"
services:
  - name: orders
    url: http://orders:8080
    connect_timeout: 5000
`));
    assert.deepEqual(warnings(r).map((d) => d.code), ['FD_TRAP_DEFAULT_TIMEOUT']);
  });

  test('a 2.x file is converted, and a warning says how many regex paths were', () => {
    const r = load(y(`
_format_version: "2.1"
services:
${SVC('a')}
    routes:
      - name: r
        paths: [/users/\\d+, /plain, "~/already"]
`));
    assert.ok(r.model);
    assert.equal(warnings(r).length, 1);
    check(warnings(r)[0], {
      severity: 'warning', code: 'FD_FORMAT_CONVERTED', at: '1:18',
      message: '_format_version 2.1: 1 regex path(s) converted to 3.0 syntax (prefixed with "~"), as deck convert does',
      hint: /deck convert/,
    });
    assert.deepEqual(r.model.routes[0]?.paths, ['~/users/\\d+', '/plain', '~/already']);
  });

  test('an upload route with no request-size limit is flagged', () => {
    const r = load(y(`
_format_version: "3.0"
services:
${SVC('files')}
    routes:
      - name: upload
        paths: [/upload]
`));
    assert.ok(r.model);
    assert.equal(warnings(r).length, 1);
    check(warnings(r)[0], { severity: 'warning', code: 'FD_TRAP_NO_SIZE_LIMIT', at: '9:9', message: 'route "upload" accepts request bodies of any size', hint: /request-size-limiting/ });
  });

  test('request-size-limiting on the route\'s service silences the upload warning', () => {
    const r = load(y(`
_format_version: "3.0"
services:
${SVC('files')}
    routes:
      - name: upload
        paths: [/upload]
    plugins:
      - name: request-size-limiting
        config:
          allowed_payload_size: 10
`));
    assert.deepEqual(warnings(r).map((d) => d.code).filter((c) => c !== 'FD_PLUGIN_PENDING'), []);
  });

  test('request-size-limiting on an unrelated route does not silence the upload warning', () => {
    const r = load(y(`
_format_version: "3.0"
services:
${SVC('files')}
    routes:
      - name: upload
        paths: [/upload]
${SVC('other')}
    routes:
      - name: other
        paths: [/other]
        plugins:
          - name: request-size-limiting
            config:
              allowed_payload_size: 1
`));
    assert.deepEqual(warnings(r).map((d) => d.code).filter((c) => c !== 'FD_PLUGIN_PENDING'), ['FD_TRAP_NO_SIZE_LIMIT']);
  });
});

describe('mesh identity (extension)', () => {
  test('identities without tls_verify would never be checked: refused on the field', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
  - name: orders
    url: https://orders.mesh.internal:8443
    mesh:
      identities: ["spiffe://cluster.local/ns/shop/sa/orders"]
`), { code: 'FD_MESH_NEEDS_VERIFY', at: '6:19', message: 'service "orders" names mesh identities without tls_verify: true', hint: /tls_verify: true/ });
  });

  test('a mesh extension on a service that does not speak TLS', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
  - name: orders
    url: http://orders.mesh.internal:8080
    tls_verify: true
    mesh: { alpn: [istio-http/1.1] }
`), { code: 'FD_MESH_NEEDS_TLS', at: '6:11', message: 'does not speak TLS to its upstream', hint: /protocol: https/ });
  });

  test('a malformed SPIFFE ID, at its line:col', () => {
    const r = load(y(`
_format_version: "3.0"
services:
  - name: orders
    url: https://orders.mesh.internal:8443
    tls_verify: true
    mesh:
      identities: ["spiffe://"]
`));
    check(errors(r)[0], { code: errors(r)[0]?.code ?? '', at: '7:20', message: 'is not a SPIFFE ID' });
  });
});

describe('route snis', () => {
  test("snis on a route that is never reached over TLS: Kong's schema error, on the field", () => {
    refusedWith(y(`
_format_version: "3.0"
services:
  - name: orders
    url: http://orders:8080
    routes:
      - name: r
        protocols: [http]
        snis: [api.example.test]
`), { code: 'FD_INVALID_VALUE', at: '8:15', message: "'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'", hint: /add https/ });
  });

  test('an SNI with a port is refused at its own line:col', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
  - name: orders
    url: http://orders:8080
    routes:
      - name: r
        protocols: [https]
        snis:
          - api.example.test
          - "api.example.test:443"
`), { code: 'FD_INVALID_VALUE', at: '10:13', message: '"api.example.test:443" is not an SNI: must not have a port' });
  });
});

describe('stream routes', () => {
  test('a route mixing HTTP and stream protocols', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
  - name: s
    url: tcp://10.0.0.5:5432
    routes:
      - name: r
        protocols: [tcp, http]
        destinations: [{ port: 5432 }]
`), { code: 'FD_INVALID_VALUE', at: '7:20', message: 'a route is either an HTTP route or a stream route' });
  });

  test('tls_passthrough without snis: Kong\'s schema error', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
  - name: s
    url: tcp://10.0.0.5:8443
    routes:
      - name: r
        protocols: [tls_passthrough]
`), { code: 'FD_INVALID_VALUE', at: '6:9', message: "'snis' is required when 'protocols' is 'tls_passthrough'" });
  });

  test('a stream route with paths', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
  - name: s
    url: tcp://10.0.0.5:5432
    routes:
      - name: r
        protocols: [tcp]
        paths: [/x]
        destinations: [{ port: 5432 }]
`), { code: 'FD_INVALID_VALUE', at: '8:16', message: "'paths' cannot be set on a stream route" });
  });
});

describe('plugins on stream routes', () => {
  test('an ip-restriction that would guard a stream route is refused, not left out', () => {
    refusedWith(y(`
_format_version: "3.0"
services:
  - name: db
    url: tcp://10.0.0.5:5432
    routes:
      - name: db
        protocols: [tcp]
        destinations: [{ port: 5432 }]
plugins:
  - name: ip-restriction
    config: { allow: [10.0.0.0/8] }
`), { code: 'FD_STREAM_PLUGIN', at: '10:5', message: 'plugin "ip-restriction" would apply to the stream route "db"' });
  });
});
