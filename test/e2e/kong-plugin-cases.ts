// Kong's plugin access specs as data: what a client sees (status, body, response headers) and
// what reaches the upstream, for the cases of Kong's own specs
// (spec/03-plugins/<nn>-<plugin>/02-access_spec.lua in Kong/kong, 3.x) whose config the gateway
// serves. `cite` names the spec file, its `describe` and `it`. Every route is told apart by its
// host, as in Kong's specs; `$UPSTREAM` is the echo upstream's URL. Where Kong changed an answer
// after the spec version cited (key-auth since Kong 3.8, Kong/kong#11794: an invalid key is
// 401 {"message":"Unauthorized"}, every 401 carries WWW-Authenticate, `Key` without a realm),
// the case expects Kong 3.9's answer and says so. The cors, ip-restriction, request-size-limiting
// and correlation-id cases come from those specs as Kong/kong holds them at 3.x (cors
// 04c1cd37, ip-restriction 019660f0, request-size-limiting 3.x with require_content_length,
// correlation-id 185ff1d5): `describe` is the innermost one around the `it`. The basic-auth
// cases come from its spec as Kong 3.9 holds it (hosts `*.test`, route1 with realm "test-realm";
// since Kong 3.8 every failure is 401 {"message":"Unauthorized"} with
// `WWW-Authenticate: Basic realm="<realm>"`, the realm "service" by default). Where Kong's mock
// upstream answers a path of its own (/status/<code>, /response-headers), the echo upstream
// does the same (its kongMock option). A few cases come from a plugin's handler where its spec
// has none (bot-detection's allow before deny, redirect's priorities): they cite the handler's
// function. response-transformer's cases come from its filter spec (04-filter_spec.lua), the
// JSON fields it names being the echo upstream's own. Kong's spec routes made with
// `bp.routes:insert` and no service get the spec's mock
// service (the route blueprint inserts one): here they are on the echo upstream's service.

export interface PluginRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** A body of this many "a"s, sent with its Content-Length, or chunked (no Content-Length); or this text, with its Content-Length. */
  body?: { bytes: number; chunked?: boolean } | { text: string };
}

export interface PluginExpect {
  status: number;
  /** The JSON body, compared whole. */
  json?: unknown;
  /** The body, compared as text. */
  body?: string;
  /** Parts the body holds, and parts it must not (as text). */
  bodyHas?: string[];
  bodyLacks?: string[];
  /** Response headers; null: absent; a RegExp: present and matching. */
  headers?: Record<string, string | null | RegExp>;
  /** What the upstream received (the request reached it): its path and headers (null: absent; '*': present; a RegExp: matching). */
  upstream?: { method?: string; path?: string | RegExp; headers?: Record<string, string | null | RegExp>; bodyHas?: string[]; bodyLacks?: string[] };
  /** A response header that carries the value the upstream received in the request header of that name. */
  echoes?: string;
  /** A request header the upstream receives with a different value when the same request is sent again. */
  differsEachTime?: string;
}

export interface PluginCase {
  cite: string;
  request: PluginRequest;
  expect: PluginExpect;
}

import { createHmac, createSign, generateKeyPairSync } from 'node:crypto';

const RT = 'spec/03-plugins/14-request-termination/02-access_spec.lua';
const JW = 'spec/03-plugins/16-jwt/03-access_spec.lua';
const AC = 'spec/03-plugins/18-acl/02-access_spec.lua';
const KA = 'spec/03-plugins/09-key-auth/02-access_spec.lua';
const BA = 'spec/03-plugins/10-basic-auth/03-access_spec.lua';
const at = (spec: string, describe: string, it: string) => `${spec} describe("${describe}") it("${it}")`;

/** The anonymous consumer's id (Kong's `anonymous` names a consumer by id). */
const ANONYMOUS_ID = '4f0c1a5e-7e0e-4a52-9c43-0b8f0f7a2a11';
/** The consumers of basic-auth's logical AND / OR block (Kong's user1, user2 and anonymous). */
const MICKEY_ID = '0b6c2f1e-3a52-4d1e-8f0a-6a1d2c3b4e01';
const ALADDIN_ID = '0b6c2f1e-3a52-4d1e-8f0a-6a1d2c3b4e02';
const LOGICAL_ANONYMOUS_ID = '0b6c2f1e-3a52-4d1e-8f0a-6a1d2c3b4e03';

const CORS = 'spec/03-plugins/13-cors/01-access_spec.lua';
const IPR = 'spec/03-plugins/17-ip-restriction/02-access_spec.lua';
const RSL = 'spec/03-plugins/12-request-size-limiting/01-access_spec.lua';
const CID = 'spec/03-plugins/11-correlation-id/01-access_spec.lua';
const BOT = 'spec/03-plugins/11-bot-detection/01-access_spec.lua';
const BOT_HANDLER = 'kong/plugins/bot-detection/handler.lua';
const RD = 'spec/03-plugins/46-redirect/01-access_spec.lua';
const RD_HANDLER = 'kong/plugins/redirect/handler.lua';

type Json = Record<string, unknown>;
const withPlugin = (host: string, name: string, config: Json = {}, extra: Json = {}) => ({ name: host, hosts: [host], ...extra, plugins: [{ name, config }] });

/**
 * The origins of Kong's cors `regex_testcases` and, per origin, what Kong answers a preflight
 * with: false (no Access-Control-Allow-Origin), true (the origin echoed), or the value sent.
 */
const CORS_REGEX_CASES: Array<{ origins: string[]; tests: Record<string, boolean | string> }> = [
  { origins: ['foo.test'], tests: Object.fromEntries(['http://evil.test', 'http://foo.test', 'http://foo.test.evil.test', 'http://something.foo.test', 'http://evilfoo.test', 'http://foo.test:80', 'http://foo.test:8000', 'https://foo.test:8000', 'http://foo.test:90', 'http://foobtest', 'https://bar.test:1234'].map((o) => [o, 'foo.test'])) },
  { origins: ['https://bar.test:1234'], tests: Object.fromEntries(['http://evil.test', 'http://foo.test', 'http://foo.test.evil.test', 'http://something.foo.test', 'http://evilfoo.test', 'http://foo.test:80', 'http://foo.test:8000', 'https://foo.test:8000', 'http://foo.test:90', 'http://foobtest', 'https://bar.test:1234'].map((o) => [o, 'https://bar.test:1234'])) },
  { origins: ['foo\\.test'], tests: { 'http://evil.test': false, 'http://foo.test': true, 'http://foo.test.evil.test': false, 'http://something.foo.test': false, 'http://evilfoo.test': false, 'http://foo.test:80': 'http://foo.test', 'http://foo.test:8000': true, 'https://foo.test:8000': true, 'http://foo.test:90': true, 'http://foobtest': false, 'https://bar.test:1234': false } },
  { origins: ['(.*[./])?foo\\.test'], tests: { 'http://evil.test': false, 'http://foo.test': true, 'http://foo.test.evil.test': false, 'http://something.foo.test': true, 'http://evilfoo.test': false, 'http://foo.test:80': 'http://foo.test', 'http://foo.test:8000': true, 'https://foo.test:8000': true, 'http://foo.test:90': true, 'http://foobtest': false, 'https://bar.test:1234': false } },
  { origins: ['(.*[./])?foo\\.test:8000'], tests: { 'http://evil.test': false, 'http://foo.test': false, 'http://foo.test.evil.test': false, 'http://something.foo.test': false, 'http://evilfoo.test': false, 'http://foo.test:80': false, 'http://foo.test:8000': true, 'https://foo.test:8000': true, 'http://foo.test:90': false, 'http://foobtest': false, 'https://bar.test:1234': false } },
  { origins: ['https://(.*[.])?foo\\.test:8000'], tests: { 'http://evil.test': false, 'http://foo.test': false, 'http://foo.test.evil.test': false, 'http://something.foo.test': false, 'http://foo.test:80': false, 'http://foo.test:8000': false, 'https://foo.test:8000': true, 'http://foo.test:90': false, 'http://foobtest': false, 'https://bar.test:1234': false } },
  { origins: ['^http://(.*[.])?foo\\.test(:(80|90))?$'], tests: { 'http://evil.test': false, 'http://foo.test': true, 'http://foo.test.evil.test': false, 'http://something.foo.test': true, 'http://foo.test:80': 'http://foo.test', 'http://foo.test:8000': false, 'https://foo.test:8000': false, 'http://foo.test:90': true, 'http://foobtest': false, 'https://bar.test:1234': false } },
  { origins: ['foo.test', 'bar.test'], tests: { 'http://evil.test': false, 'http://foo.test': false, 'http://foo.test.evil.test': false, 'http://foo.test:80': false, 'http://foo.test:8000': false, 'http://foo.test:90': false, 'http://foobtest': false, 'https://bar.test:1234': false } },
  { origins: ['http://foo.test', 'https://bar.test:1234'], tests: { 'http://evil.test': false, 'http://foo.test': true, 'http://foo.test.evil.test': false, 'http://foo.test:80': 'http://foo.test', 'http://foo.test:8000': false, 'http://foo.test:90': false, 'http://foobtest': false, 'https://bar.test:1234': true } },
  { origins: ['bar.test', 'foo\\.test'], tests: { 'http://evil.test': false, 'http://foo.test': true, 'http://foo.test.evil.test': false, 'http://something.foo.test': false, 'http://foo.test:80': 'http://foo.test', 'http://foo.test:8000': true, 'http://foo.test:90': true, 'http://foobtest': false, 'https://bar.test:1234': false } },
  { origins: ['bar.test', '(.*\\.)?foo\\.test'], tests: { 'http://evil.test': false, 'http://foo.test': true, 'http://foo.test.evil.test': false, 'http://something.foo.test': true, 'http://foo.test:80': 'http://foo.test', 'http://foo.test:8000': true, 'http://foo.test:90': true, 'http://foobtest': false, 'https://bar.test:1234': false } },
  { origins: ['bar.test', '(.*[./])?foo\\.test:8000'], tests: { 'http://evil.test': false, 'http://foo.test': false, 'http://foo.test.evil.test': false, 'http://something.foo.test': false, 'http://foo.test:80': false, 'http://foo.test:8000': true, 'https://foo.test:8000': true, 'http://foo.test:90': false, 'http://foobtest': false, 'https://bar.test:1234': false } },
  { origins: ['bar.test', 'https://(.*\\.)?foo\\.test:8000'], tests: { 'http://evil.test': false, 'http://foo.test': false, 'http://foo.test.evil.test': false, 'http://something.foo.test': false, 'http://foo.test:80': false, 'http://foo.test:8000': false, 'https://foo.test:8000': true, 'http://foo.test:90': false, 'http://foobtest': false, 'https://bar.test:1234': false } },
];

/** Kong's cors spec routes (its preflight_continue routes without it: Kong's GET answers there do not depend on it). */
const CORS_ROUTE_CONFIGS: Array<[string, Json]> = [
  ['cors1.test', {}],
  ['cors2.test', { origins: ['example.test'], methods: ['GET'], headers: ['origin', 'type', 'accepts'], exposed_headers: ['x-auth-token'], max_age: 23, credentials: true }],
  ['cors5.test', { origins: ['*'], credentials: true }],
  ['cors6.test', { origins: ['example.test', 'example.org'], methods: ['GET'], headers: ['origin', 'type', 'accepts'], exposed_headers: ['x-auth-token'], max_age: 23 }],
  ['cors7.test', { origins: ['*'], credentials: false }],
  ['cors-empty-origins.test', { origins: [] }],
  ['cors9.test', { origins: ['.*\\.?example(?:-foo)?.test'] }],
  ['cors10.test', { origins: ['http://my-site.test', 'http://my-other-site.test'] }],
  ['cors11.test', { origins: ['http://my-site.test', 'https://my-other-site.test:9000'] }],
  ['cors12.test', { credentials: true, preflight_continue: false, max_age: 1728000, headers: ['DNT', 'X-CustomHeader', 'Keep-Alive', 'User-Agent', 'X-Requested-With', 'If-Modified-Since', 'Cache-Control', 'Content-Type', 'Authorization'], methods: null, origins: ['a.xxx.test', 'allowed-domain.test'] }],
  ['cors13.test', { preflight_continue: false, private_network: true, origins: ['allowed-domain.test'] }],
  ['cors14.test', { preflight_continue: false, origins: ['foo.bar', '*'] }],
  ['cors15.test', { allow_origin_absent: false, origins: ['foo.bar'], exposed_headers: ['x-auth-token'], credentials: true }],
  ['cors16.test', { allow_origin_absent: true, origins: ['foo.bar'], exposed_headers: ['x-auth-token'], credentials: true }],
  ['cors-upstream.test', { origins: ['example.test'], methods: ['GET'], headers: ['origin', 'type', 'accepts'], exposed_headers: ['x-auth-token'], max_age: 10 }],
  ...CORS_REGEX_CASES.map((c, i): [string, Json] => [`cors-regex-${i + 1}.test`, { origins: c.origins }]),
];

const IPR_ROUTE_CONFIGS: Array<[string, Json]> = [
  ['ip-restriction1.test', { deny: ['127.0.0.1', '127.0.0.2'] }],
  ['ip-restriction2.test', { deny: ['127.0.0.2'] }],
  ['ip-restriction3.test', { allow: ['127.0.0.2'] }],
  ['ip-restriction4.test', { allow: ['127.0.0.1'] }],
  ['ip-restriction5.test', { deny: ['127.0.0.0/24'] }],
  ['ip-restriction6.test', { allow: ['127.0.0.4'] }],
  ['ip-restriction7.test', { deny: ['127.0.0.4'] }],
  ['ip-restriction8.test', { allow: ['0.0.0.0/0'] }],
  ['ip-restriction9.test', { allow: ['127.0.0.1'], deny: ['127.0.0.1'] }],
  ['ip-restriction10.test', { allow: ['127.0.0.0/24'], deny: ['127.0.0.1'] }],
  ['ip-restriction11.test', { allow: ['127.0.0.0/24'], deny: ['127.0.0.0/24'] }],
  ['ip-restriction12.test', { deny: ['127.0.0.0/24'], status: 401, message: 'Forbidden' }],
];

// bot-detection's spec values: HELLOWORLD "just a test value", FACEBOOK "matches a known bot in rules.lua".
const HELLOWORLD = 'HelloWorld';
const FACEBOOK = 'facebookexternalhit/1.1';
const BOT_ROUTE_CONFIGS: Array<[string, Json]> = [
  ['bot.test', {}],
  ['bot2.test', { deny: [HELLOWORLD] }],
  ['bot3.test', { allow: [FACEBOOK] }],
  ['bot4.test', { allow: ['^Hello'], deny: [HELLOWORLD] }],
];

/** Kong's size units (kong/plugins/request-size-limiting/handler.lua `size_units`, `unit_multiplication_factor`). */
const SIZE_UNITS = [['megabytes', 2 ** 20], ['kilobytes', 2 ** 10], ['bytes', 1]] as const;
const TEST_SIZE = 2;
const MB = 2 ** 20;
const KB = 2 ** 10;

const RSL_ROUTE_CONFIGS: Array<[string, Json]> = [
  ['limit.test', { allowed_payload_size: TEST_SIZE }],
  ['required.test', { allowed_payload_size: TEST_SIZE, require_content_length: true }],
  ...SIZE_UNITS.map(([unit]): [string, Json] => [`limit_${unit}.test`, { allowed_payload_size: TEST_SIZE, size_unit: unit }]),
];

const CID_ROUTE_CONFIGS: Array<[string, Json]> = [
  ['correlation1.com', {}],
  ['correlation2.com', { header_name: 'Foo-Bar-Id' }],
  ['correlation3.com', { generator: 'uuid', echo_downstream: true }],
];

/** The routes of the cors, ip-restriction, bot-detection, request-size-limiting and correlation-id specs on the echo upstream. */
const NATIVE_PLUGIN_ROUTES = [
  ...CORS_ROUTE_CONFIGS.map(([host, config]) => withPlugin(host, 'cors', config)),
  { name: 'cors4.test', hosts: ['cors4.test'], plugins: [{ name: 'cors' }, { name: 'key-auth' }] },
  ...IPR_ROUTE_CONFIGS.map(([host, config]) => withPlugin(host, 'ip-restriction', config)),
  ...BOT_ROUTE_CONFIGS.map(([host, config]) => withPlugin(host, 'bot-detection', config)),
  ...RSL_ROUTE_CONFIGS.map(([host, config]) => withPlugin(host, 'request-size-limiting', config)),
  ...CID_ROUTE_CONFIGS.map(([host, config]) => withPlugin(host, 'correlation-id', config)),
  {
    name: 'correlation5.com', hosts: ['correlation5.com'],
    plugins: [{ name: 'correlation-id', config: { generator: 'uuid', echo_downstream: true } }, { name: 'request-termination', config: { status_code: 418, message: "I'm a teapot" } }],
  },
];

/** Kong's specs' service that does not answer (127.0.0.2:26865 there): here a loopback port nothing listens on. */
const DEAD_SERVICE = {
  name: 'dead',
  url: 'http://127.0.0.1:9',
  routes: [
    withPlugin('cors-timeout.test', 'cors', { origins: ['example.test'], methods: ['GET'], headers: ['origin', 'type', 'accepts'], exposed_headers: ['x-auth-token'], max_age: 10 }),
    withPlugin('correlation-timeout.com', 'correlation-id', { generator: 'uuid', echo_downstream: true }),
  ],
};
// Tokens as Kong's jwt specs build them (spec/03-plugins/16-jwt/fixtures.lua: an HS256 secret
// and an RS256 key pair per consumer). Times are fixed far from now: 2100-01-01 and 1970.
const FUTURE = 4_102_444_800;
const PAST = 1_000;
const JWT_SECRET = 'jwt-tests-secret';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const RSA_PUBLIC_PEM = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
function hs256(payload: object, secret: string | Buffer = JWT_SECRET, header: object = { typ: 'JWT', alg: 'HS256' }): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}
function rs256(payload: object): string {
  const input = `${b64({ typ: 'JWT', alg: 'RS256' })}.${b64(payload)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(rsa.privateKey).toString('base64url')}`;
}
const GOOD = hs256({ iss: 'jwt-key', exp: FUTURE });
const GOLD = hs256({ iss: 'gold-key', exp: FUTURE });
const NOGROUP = hs256({ iss: 'nogroup-key', exp: FUTURE });

/** Kong's key-auth spec routes /ttt ... /ftf: key_in_header, key_in_query, key_in_body as t/f. */
const KEY_MATRIX_ROUTES: Array<[string]> = [['ttt'], ['ttf'], ['tff'], ['fff'], ['fft'], ['tft'], ['ftf']];

/**
 * Kong's key-auth combination table (spec/03-plugins/09-key-auth/02-access_spec.lua, the last
 * describe): the key in the header, the query and a form body, each "right", "wrong" or absent
 * (null), against the seven routes, and Kong's status for each, in its order.
 */
const KEY_MATRIX: Array<[string | null, string | null, string | null, string, number]> = [
  ['right', 'right', 'right', 'ttt', 200], ['right', 'right', 'right', 'ttf', 200], ['right', 'right', 'right', 'tff', 200], ['right', 'right', 'right', 'fff', 401], ['right', 'right', 'right', 'fft', 200], ['right', 'right', 'right', 'tft', 200], ['right', 'right', 'right', 'ftf', 200],
  ['right', 'right', 'wrong', 'ttt', 200], ['right', 'right', 'wrong', 'ttf', 200], ['right', 'right', 'wrong', 'tff', 200], ['right', 'right', 'wrong', 'fff', 401], ['right', 'right', 'wrong', 'fft', 401], ['right', 'right', 'wrong', 'tft', 200], ['right', 'right', 'wrong', 'ftf', 200],
  ['right', 'wrong', 'wrong', 'ttt', 200], ['right', 'wrong', 'wrong', 'ttf', 200], ['right', 'wrong', 'wrong', 'tff', 200], ['right', 'wrong', 'wrong', 'fff', 401], ['right', 'wrong', 'wrong', 'fft', 401], ['right', 'wrong', 'wrong', 'tft', 200], ['right', 'wrong', 'wrong', 'ftf', 401],
  ['wrong', 'wrong', 'wrong', 'ttt', 401], ['wrong', 'wrong', 'wrong', 'ttf', 401], ['wrong', 'wrong', 'wrong', 'tff', 401], ['wrong', 'wrong', 'wrong', 'fff', 401], ['wrong', 'wrong', 'wrong', 'fft', 401], ['wrong', 'wrong', 'wrong', 'tft', 401], ['wrong', 'wrong', 'wrong', 'ftf', 401],
  ['wrong', 'wrong', 'right', 'ttt', 401], ['wrong', 'wrong', 'right', 'ttf', 401], ['wrong', 'wrong', 'right', 'tff', 401], ['wrong', 'wrong', 'right', 'fff', 401], ['wrong', 'wrong', 'right', 'fft', 200], ['wrong', 'wrong', 'right', 'tft', 401], ['wrong', 'wrong', 'right', 'ftf', 401],
  ['right', 'wrong', 'right', 'ttt', 200], ['right', 'wrong', 'right', 'ttf', 200], ['right', 'wrong', 'right', 'tff', 200], ['right', 'wrong', 'right', 'fff', 401], ['right', 'wrong', 'right', 'fft', 200], ['right', 'wrong', 'right', 'tft', 200], ['right', 'wrong', 'right', 'ftf', 401],
  ['wrong', 'right', 'wrong', 'ttt', 401], ['wrong', 'right', 'wrong', 'ttf', 401], ['wrong', 'right', 'wrong', 'tff', 401], ['wrong', 'right', 'wrong', 'fff', 401], ['wrong', 'right', 'wrong', 'fft', 401], ['wrong', 'right', 'wrong', 'tft', 401], ['wrong', 'right', 'wrong', 'ftf', 200],
  [null, null, null, 'ttt', 401], [null, null, null, 'ttf', 401], [null, null, null, 'tff', 401], [null, null, null, 'fff', 401], [null, null, null, 'fft', 401], [null, null, null, 'tft', 401], [null, null, null, 'ftf', 401],
  [null, null, 'wrong', 'ttt', 401], [null, null, 'wrong', 'ttf', 401], [null, null, 'wrong', 'tff', 401], [null, null, 'wrong', 'fff', 401], [null, null, 'wrong', 'fft', 401], [null, null, 'wrong', 'tft', 401], [null, null, 'wrong', 'ftf', 401],
  [null, 'wrong', 'wrong', 'ttt', 401], [null, 'wrong', 'wrong', 'ttf', 401], [null, 'wrong', 'wrong', 'tff', 401], [null, 'wrong', 'wrong', 'fff', 401], [null, 'wrong', 'wrong', 'fft', 401], [null, 'wrong', 'wrong', 'tft', 401], [null, 'wrong', 'wrong', 'ftf', 401],
  ['wrong', 'wrong', null, 'ttt', 401], ['wrong', 'wrong', null, 'ttf', 401], ['wrong', 'wrong', null, 'tff', 401], ['wrong', 'wrong', null, 'fff', 401], ['wrong', 'wrong', null, 'fft', 401], ['wrong', 'wrong', null, 'tft', 401], ['wrong', 'wrong', null, 'ftf', 401],
  [null, 'wrong', null, 'ttt', 401], [null, 'wrong', null, 'ttf', 401], [null, 'wrong', null, 'tff', 401], [null, 'wrong', null, 'fff', 401], [null, 'wrong', null, 'fft', 401], [null, 'wrong', null, 'tft', 401], [null, 'wrong', null, 'ftf', 401],
  ['wrong', null, 'wrong', 'ttt', 401], ['wrong', null, 'wrong', 'ttf', 401], ['wrong', null, 'wrong', 'tff', 401], ['wrong', null, 'wrong', 'fff', 401], ['wrong', null, 'wrong', 'fft', 401], ['wrong', null, 'wrong', 'tft', 401], ['wrong', null, 'wrong', 'ftf', 401],
  ['right', 'right', null, 'ttt', 200], ['right', 'right', null, 'ttf', 200], ['right', 'right', null, 'tff', 200], ['right', 'right', null, 'fff', 401], ['right', 'right', null, 'fft', 401], ['right', 'right', null, 'tft', 200], ['right', 'right', null, 'ftf', 200],
  ['right', null, null, 'ttt', 200], ['right', null, null, 'ttf', 200], ['right', null, null, 'tff', 200], ['right', null, null, 'fff', 401], ['right', null, null, 'fft', 401], ['right', null, null, 'tft', 200], ['right', null, null, 'ftf', 401],
  [null, null, 'right', 'ttt', 200], [null, null, 'right', 'ttf', 401], [null, null, 'right', 'tff', 401], [null, null, 'right', 'fff', 401], [null, null, 'right', 'fft', 200], [null, null, 'right', 'tft', 200], [null, null, 'right', 'ftf', 401],
  ['right', null, 'right', 'ttt', 200], ['right', null, 'right', 'ttf', 200], ['right', null, 'right', 'tff', 200], ['right', null, 'right', 'fff', 401], ['right', null, 'right', 'fft', 200], ['right', null, 'right', 'tft', 200], ['right', null, 'right', 'ftf', 401],
  [null, 'right', null, 'ttt', 200], [null, 'right', null, 'ttf', 200], [null, 'right', null, 'tff', 401], [null, 'right', null, 'fff', 401], [null, 'right', null, 'fft', 401], [null, 'right', null, 'tft', 401], [null, 'right', null, 'ftf', 200],
  [null, 'right', 'wrong', 'ttt', 200], [null, 'right', 'wrong', 'ttf', 200], [null, 'right', 'wrong', 'tff', 401], [null, 'right', 'wrong', 'fff', 401], [null, 'right', 'wrong', 'fft', 401], [null, 'right', 'wrong', 'tft', 401], [null, 'right', 'wrong', 'ftf', 200],
  ['right', 'wrong', null, 'ttt', 200], ['right', 'wrong', null, 'ttf', 200], ['right', 'wrong', null, 'tff', 200], ['right', 'wrong', null, 'fff', 401], ['right', 'wrong', null, 'fft', 401], ['right', 'wrong', null, 'tft', 200], ['right', 'wrong', null, 'ftf', 401],
  ['right', null, 'wrong', 'ttt', 200], ['right', null, 'wrong', 'ttf', 200], ['right', null, 'wrong', 'tff', 200], ['right', null, 'wrong', 'fff', 401], ['right', null, 'wrong', 'fft', 401], ['right', null, 'wrong', 'tft', 200], ['right', null, 'wrong', 'ftf', 401],
  [null, 'wrong', 'right', 'ttt', 401], [null, 'wrong', 'right', 'ttf', 401], [null, 'wrong', 'right', 'tff', 401], [null, 'wrong', 'right', 'fff', 401], [null, 'wrong', 'right', 'fft', 200], [null, 'wrong', 'right', 'tft', 200], [null, 'wrong', 'right', 'ftf', 401],
  ['wrong', 'right', null, 'ttt', 401], ['wrong', 'right', null, 'ttf', 401], ['wrong', 'right', null, 'tff', 401], ['wrong', 'right', null, 'fff', 401], ['wrong', 'right', null, 'fft', 401], ['wrong', 'right', null, 'tft', 401], ['wrong', 'right', null, 'ftf', 200],
  ['wrong', null, 'right', 'ttt', 401], ['wrong', null, 'right', 'ttf', 401], ['wrong', null, 'right', 'tff', 401], ['wrong', null, 'right', 'fff', 401], ['wrong', null, 'right', 'fft', 200], ['wrong', null, 'right', 'tft', 401], ['wrong', null, 'right', 'ftf', 401],
];

export const PLUGIN_CONFIG = {
  _format_version: '3.0',
  services: [{
    name: 'mock',
    url: '$UPSTREAM',
    routes: [
      ...([
        ['api1', {}],
        ['api2', { status_code: 404 }],
        ['api3', { status_code: 406, message: 'Invalid' }],
        ['api4', { body: '<html><body><h1>Service is down for maintenance</h1></body></html>' }],
        ['api5', { status_code: 451, content_type: 'text/html', body: '<html><body><h1>Service is down due to content infringement</h1></body></html>' }],
        ['api6', { status_code: 503, body: '{"code": 1, "message": "Service unavailable"}' }],
        ['api8', { status_code: 204 }],
      ] as const).map(([name, config]) => ({ name, hosts: [`${name}.request-termination.com`], plugins: [{ name: 'request-termination', config }] })),
      { name: 'key-auth1', hosts: ['key-auth1.com'], plugins: [{ name: 'key-auth' }] },
      { name: 'key-auth2', hosts: ['key-auth2.com'], plugins: [{ name: 'key-auth', config: { hide_credentials: true } }] },
      { name: 'key-auth3', hosts: ['key-auth3.com'], plugins: [{ name: 'key-auth', config: { anonymous: ANONYMOUS_ID } }] },
      { name: 'key-auth7', hosts: ['key-auth7.com'], strip_path: true, plugins: [{ name: 'key-auth', config: { run_on_preflight: false } }] },
      { name: 'key-auth5', hosts: ['key-auth5.com'], plugins: [{ name: 'key-auth', config: { key_in_body: true } }] },
      { name: 'key-auth6', hosts: ['key-auth6.com'], plugins: [{ name: 'key-auth', config: { key_in_body: true, hide_credentials: true } }] },
      { name: 'basic-auth1', hosts: ['basic-auth1.test'], plugins: [{ name: 'basic-auth', config: { realm: 'test-realm' } }] },
      { name: 'basic-auth2', hosts: ['basic-auth2.test'], plugins: [{ name: 'basic-auth', config: { hide_credentials: true } }] },
      { name: 'basic-auth3', hosts: ['basic-auth3.test'], plugins: [{ name: 'basic-auth', config: { anonymous: ANONYMOUS_ID } }] },
      { name: 'basic-auth5', hosts: ['basic-auth5.test'], plugins: [{ name: 'basic-auth', config: { anonymous: 'no-body' } }] },
      ...NATIVE_PLUGIN_ROUTES,
      { name: 'jwt1', hosts: ['jwt1.com'], plugins: [{ name: 'jwt' }] },
      { name: 'jwt2', hosts: ['jwt2.com'], plugins: [{ name: 'jwt', config: { claims_to_verify: ['exp', 'nbf'] } }] },
      { name: 'jwt3', hosts: ['jwt3.com'], plugins: [{ name: 'jwt', config: { anonymous: ANONYMOUS_ID } }] },
      { name: 'jwt4', hosts: ['jwt4.com'], plugins: [{ name: 'jwt', config: { run_on_preflight: false } }] },
      { name: 'jwt5', hosts: ['jwt5.com'], plugins: [{ name: 'jwt', config: { claims_to_verify: ['exp'], maximum_expiration: 600 } }] },
      { name: 'jwt6', hosts: ['jwt6.com'], plugins: [{ name: 'jwt', config: { uri_param_names: ['token', 'jwt'], cookie_names: ['crumble', 'silly'] } }] },
      { name: 'acl1', hosts: ['acl1.com'], plugins: [{ name: 'jwt' }, { name: 'acl', config: { allow: ['gold'] } }] },
      { name: 'acl2', hosts: ['acl2.com'], plugins: [{ name: 'jwt' }, { name: 'acl', config: { deny: ['gold'] } }] },
      { name: 'acl3', hosts: ['acl3.com'], plugins: [{ name: 'jwt' }, { name: 'acl', config: { allow: ['gold'], hide_groups_header: true } }] },
      // Kong's request-transformer spec routes 4, 9 and 5 (remove, rename, replace).
      { name: 'rt-remove', hosts: ['test4.test'], plugins: [{ name: 'request-transformer', config: { remove: { headers: ['x-to-remove'], querystring: ['q1'], body: ['toremoveform'] } } }] },
      { name: 'rt-rename', hosts: ['test9.test'], plugins: [{ name: 'request-transformer', config: { rename: { headers: ['x-to-rename:x-is-renamed'], querystring: ['originalparam:renamedparam'], body: ['originalparam:renamedparam'] } } }] },
      { name: 'rt-replace', hosts: ['test5.test'], plugins: [{ name: 'request-transformer', config: { replace: { headers: ['h1:v1'], querystring: ['q1:v1'], body: ['p1:v1'] } } }] },
      // Kong's request-transformer template routes (10-12, 14-18), on Kong's regex paths.
      ...((): object[] => {
        const users = '~/requests/user1/(?P<user1>\\w+)/user2/(?P<user2>\\S+)';
        const named = '~/requests/user1/(?<user1>\\w+)/user2/(?<user2>\\S+)';
        const rt = (name: string, host: string, route: object, config: object) => ({ name, hosts: [host], ...route, plugins: [{ name: 'request-transformer', config }] });
        return [
          rt('rt-tpl-query', 'test10.test', { paths: [users], strip_path: false }, { add: { querystring: ['uri_param1:$(uri_captures.user1)', 'uri_param2[some_index][1]:$(uri_captures.user2)'] } }),
          rt('rt-tpl-uri', 'test11.test', { paths: [users] }, { replace: { uri: '/requests/user2/$(uri_captures.user2)/user1/$(uri_captures.user1)' } }),
          rt('rt-tpl-default', 'test12.test', { paths: ['/requests/'], strip_path: false }, { add: { querystring: ["uri_param1:$(uri_captures.user1 or 'default1')", "uri_param2:$(uri_captures.user2 or 'default2')"] } }),
          rt('rt-tpl-index', 'test14.test', { paths: ['~/user1/(?P<user1>\\w+)/user2/(?P<user2>\\S+)'] }, { replace: { uri: '/requests$(uri_captures[0])' } }),
          rt('rt-tpl-sources', 'test15.test', { paths: [named], strip_path: false }, { add: { querystring: ['uri_param1:$(uri_captures.user1)', 'uri_param2:$(headers.host)'], headers: ['x-test-header:$(query_params.q1)'] }, remove: { querystring: ['q1'] } }),
          rt('rt-tpl-removed', 'test16.test', { paths: [named], strip_path: false }, { replace: { querystring: ["q2:$(headers['x-remove-header'])"] }, add: { querystring: ['q1:$(uri_captures.user1)'], headers: ["x-test-header:$(headers['x-remove-header'])"] }, remove: { headers: ['x-remove-header'] } }),
          rt('rt-tpl-replaced', 'test17.test', { paths: [named], strip_path: false }, { replace: { querystring: ["q2:$(headers['x-replace-header'])"], headers: ['x-replace-header:the new value'] }, add: { querystring: ['q1:$(uri_captures.user1)'], headers: ["x-test-header:$(headers['x-replace-header'])"] } }),
          rt('rt-tpl-value', 'tpl-value.test', {}, { add: { headers: ['x-q:$(query_params.q)', 'x-user:id-$(headers.x_user_id or "none")'], body: ['from:$(headers.host)'] }, replace: { headers: ['x-gone:'] } }),
          rt('rt-tpl-escaped', 'test18.test', { paths: [named], strip_path: false }, { add: { querystring: ["q1:$('$(uri_captures.user1)')"] } }),
        ];
      })(),
      { name: 'rt-method-json', hosts: ['test20.test'], plugins: [{ name: 'request-transformer', config: { http_method: 'POST', add: { headers: ['Content-Type:application/json'], body: ['body:somecontent'] } } }] },
      {
        name: 'rt-all', hosts: ['test3.test'], plugins: [{ name: 'request-transformer', config: {
          add: { headers: ['x-added:a1', 'x-added2:b1', 'x-added3:c2'], querystring: ['query-added:newvalue', 'p1:anything:1'], body: ['newformparam:newvalue'] },
          remove: { headers: ['x-to-remove'], querystring: ['toremovequery'] },
          append: { headers: ['x-added:a2', 'x-added:a3'], querystring: ['p1:a2', 'p2:b1'] },
          replace: { headers: ['x-to-replace:false'], querystring: ['toreplacequery:no'] },
        } }],
      },
      {
        name: 'rt-case', hosts: ['test26.test'], plugins: [{ name: 'request-transformer', config: {
          add: { headers: ['X-aDDed:a1', 'x-aDDed2:b1', 'x-Added3:c2'] }, remove: { headers: ['X-To-Remove'] },
          append: { headers: ['X-aDDed:a2', 'X-aDDed:a3'] }, replace: { headers: ['x-to-Replace:false'] },
        } }],
      },
      // Kong's response-transformer filter spec routes, their JSON fields the echo upstream's
      // own (its `path` for the mock's `url`, its `method` for `uri_args`).
      { name: 'rst-remove', hosts: ['response.com'], plugins: [{ name: 'response-transformer', config: { remove: { headers: ['Access-Control-Allow-Origin'], json: ['path'] } } }] },
      { name: 'rst-replace', hosts: ['response2.com'], plugins: [{ name: 'response-transformer', config: { replace: { json: ['headers:/hello/world', 'method:this is a / test', 'path:"wot"'] } } }] },
      { name: 'rst-basic', hosts: ['response3.com'], plugins: [{ name: 'response-transformer', config: { remove: { json: ['upstream'] } } }, { name: 'basic-auth' }] },
      { name: 'rt-add', hosts: ['test1.test'], plugins: [{ name: 'request-transformer', config: { add: { headers: ['h1:v1', 'h2:value:2'], querystring: ['q1:v1'], body: ['p1:v1'] } } }] },
      { name: 'rt-append', hosts: ['test6.test'], plugins: [{ name: 'request-transformer', config: { append: { headers: ['h1:v1', 'h1:v2', 'h2:v1'], querystring: ['q1:v1', 'q1:v2', 'q2:v1'], body: ['p1:v1', 'p1:v2', 'p2:value:1'] } } }] },
      // Kong's redirect spec: four routes on the spec's mock service (a route blueprint gets one).
      ...([
        ['api1', { location: 'https://example.com' }],
        ['api2', { status_code: 302, location: 'https://example.com' }],
        ['api3', { location: 'https://example.com/path?foo=bar' }],
        ['api4', { location: 'https://example.com/some_path?foo=bar', keep_incoming_path: true }],
      ] as const).map(([name, config]) => ({ name: `${name}.redirect`, hosts: [`${name}.redirect.test`], plugins: [{ name: 'redirect', config }] })),
      // Beside Kong's spec: redirect (779) after key-auth (1250) and before request-termination (2).
      { name: 'redirect-auth', hosts: ['redirect-auth.test'], plugins: [{ name: 'key-auth' }, { name: 'redirect', config: { location: 'https://example.com/login' } }] },
      { name: 'redirect-term', hosts: ['redirect-term.test'], plugins: [{ name: 'request-termination', config: { status_code: 418 } }, { name: 'redirect', config: { location: 'https://example.com/moved', status_code: 308 } }] },
      { name: 'redirect-keep', hosts: ['redirect-keep.test'], plugins: [{ name: 'redirect', config: { location: 'https://User@Example.COM:8443/old?drop=1#top', keep_incoming_path: true } }] },
    ],
  }, DEAD_SERVICE, {
    // key-auth's key_in_header / key_in_query / key_in_body matrix: one route per combination (Kong's /ttt ... /ftf).
    name: 'key-matrix',
    url: '$UPSTREAM/request',
    routes: KEY_MATRIX_ROUTES.map(([flags]) => ({
      name: `key-matrix-${flags}`, hosts: ['key-matrix.test'], paths: [`/${flags}`],
      plugins: [{ name: 'key-auth', config: { key_in_header: flags[0] === 't', key_in_query: flags[1] === 't', key_in_body: flags[2] === 't' } }],
    })),
  }, {
    // basic-auth's second block: two services with path /request, basic-auth and key-auth on each route.
    name: 'logical',
    url: '$UPSTREAM/request',
    routes: [
      { name: 'logical-and', hosts: ['logical-and.test'], plugins: [{ name: 'basic-auth' }, { name: 'key-auth' }] },
      { name: 'logical-or', hosts: ['logical-or.test'], plugins: [{ name: 'basic-auth', config: { anonymous: LOGICAL_ANONYMOUS_ID } }, { name: 'key-auth', config: { anonymous: LOGICAL_ANONYMOUS_ID } }] },
    ],
  }],
  routes: [
    // Kong's route7 has no service ("default status code and message with serviceless route").
    { name: 'api7', hosts: ['api7.request-termination.com'], plugins: [{ name: 'request-termination' }] },
    // A redirect on a route without a service answers too (Kong's exit comes before its "no Service" 503).
    { name: 'redirect-serviceless', hosts: ['redirect-serviceless.test'], plugins: [{ name: 'redirect', config: { location: 'https://example.com/elsewhere', status_code: 307 } }] },
  ],
  consumers: [
    { username: 'no-body', id: ANONYMOUS_ID },
    {
      username: 'bob', keyauth_credentials: [{ key: 'kong' }, { key: 'right' }],
      basicauth_credentials: [{ username: 'bob', password: 'kong' }, { username: 'user123', password: 'password123' }, { username: 'user321', password: 'password:123' }],
    },
    { username: 'Anonymous', id: LOGICAL_ANONYMOUS_ID },
    { username: 'Mickey', id: MICKEY_ID, keyauth_credentials: [{ key: 'Mouse' }] },
    { username: 'Aladdin', id: ALADDIN_ID, basicauth_credentials: [{ username: 'Aladdin', password: 'OpenSesame' }] },
    { username: 'jwt_tests_consumer', custom_id: 'jwt-custom', jwt_secrets: [{ key: 'jwt-key', secret: JWT_SECRET }, { key: 'rsa-key', algorithm: 'RS256', rsa_public_key: RSA_PUBLIC_PEM }] },
    { username: 'gold_member', jwt_secrets: [{ key: 'gold-key', secret: JWT_SECRET }], acls: [{ group: 'gold' }, { group: 'silver' }] },
    { username: 'no_groups', jwt_secrets: [{ key: 'nogroup-key', secret: JWT_SECRET }] },
  ],
};

const jw = (host: string, path: string, headers: Record<string, string> = {}, method?: string): PluginRequest =>
  ({ ...(method ? { method } : {}), path, headers: { host, ...headers } });
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const INVALID = 'Bearer error="invalid_token"';

const rt = (n: string, path = '/status/200'): PluginRequest => ({ path, headers: { host: `api${n}.request-termination.com` } });
const ka = (n: string, path: string, headers: Record<string, string> = {}, method?: string): PluginRequest =>
  ({ ...(method ? { method } : {}), path, headers: { host: `key-auth${n}.com`, ...headers } });

export const KONG_PLUGIN_CASES: PluginCase[] = [
  // request-termination
  { cite: at(RT, 'status code and message', 'default status code and message'), request: rt('1'), expect: { status: 503, json: { message: 'Service unavailable' } } },
  { cite: at(RT, 'status code and message', 'default status code and message with serviceless route'), request: rt('7'), expect: { status: 503, json: { message: 'Service unavailable' } } },
  { cite: at(RT, 'status code and message', 'status code with default message'), request: rt('2'), expect: { status: 404, json: { message: 'Not found' } } },
  { cite: at(RT, 'status code and message', 'status code with custom message'), request: rt('3'), expect: { status: 406, json: { message: 'Invalid' } } },
  { cite: at(RT, 'status code and message', 'returns 204 without content length header'), request: rt('8', '/status/204'), expect: { status: 204, headers: { 'content-length': null } } },
  { cite: at(RT, 'status code and body', 'default status code and body'), request: rt('4'), expect: { status: 503, body: '<html><body><h1>Service is down for maintenance</h1></body></html>', headers: { 'content-type': null } } },
  { cite: at(RT, 'status code and body', 'status code with default message'), request: rt('5'), expect: { status: 451, body: '<html><body><h1>Service is down due to content infringement</h1></body></html>', headers: { 'content-type': 'text/html' } } },
  { cite: at(RT, 'status code and body', 'status code with custom message'), request: rt('6'), expect: { status: 503, json: { code: 1, message: 'Service unavailable' } } },
  // key-auth
  { cite: at(KA, 'Unauthorized', 'returns 200 on OPTIONS requests if run_on_preflight is false'), request: ka('7', '/status/200', {}, 'OPTIONS'), expect: { status: 200, upstream: {} } },
  { cite: at(KA, 'Unauthorized', 'returns Unauthorized on OPTIONS requests if run_on_preflight is true'), request: ka('1', '/status/200', {}, 'OPTIONS'), expect: { status: 401, body: '{"message":"No API key found in request"}' } },
  { cite: at(KA, 'Unauthorized', 'returns Unauthorized on missing credentials'), request: ka('1', '/status/200'), expect: { status: 401, json: { message: 'No API key found in request' } } },
  { cite: at(KA, 'Unauthorized', 'returns WWW-Authenticate header on missing credentials'), request: ka('1', '/status/200'), expect: { status: 401, headers: { 'www-authenticate': 'Key' } } }, // 3.8+: no realm by default
  { cite: at(KA, 'key in querystring', 'authenticates valid credentials'), request: ka('1', '/request?apikey=kong'), expect: { status: 200, upstream: {} } },
  { cite: at(KA, 'key in querystring', 'returns 403 Forbidden on invalid key'), request: ka('1', '/status/200?apikey=123'), expect: { status: 401, json: { message: 'Unauthorized' }, headers: { 'www-authenticate': 'Key' } } }, // 3.8+
  { cite: at(KA, 'key in querystring', 'handles duplicated key in querystring'), request: ka('1', '/status/200?apikey=kong&apikey=kong'), expect: { status: 401, json: { message: 'Duplicate API key found' } } },
  { cite: at(KA, 'key in headers', 'authenticates valid credentials'), request: ka('1', '/request', { apikey: 'kong' }), expect: { status: 200, upstream: {} } },
  { cite: at(KA, 'key in headers', 'returns 403 Forbidden on invalid key'), request: ka('1', '/status/200', { apikey: '123' }), expect: { status: 401, json: { message: 'Unauthorized' }, headers: { 'www-authenticate': 'Key' } } }, // 3.8+
  { cite: at(KA, 'consumer headers', 'sends consumer headers to upstream'), request: ka('1', '/request?apikey=kong'), expect: { status: 200, upstream: { headers: { 'x-consumer-id': '*', 'x-consumer-username': 'bob', 'x-anonymous-consumer': null } } } },
  { cite: at(KA, 'config.hide_credentials / uri_args', 'false sends key to upstream'), request: ka('1', '/request?apikey=kong'), expect: { status: 200, upstream: { path: '/request?apikey=kong' } } },
  { cite: at(KA, 'config.hide_credentials / uri_args', "true doesn't send key to upstream"), request: ka('2', '/request?apikey=kong'), expect: { status: 200, upstream: { path: '/request' } } },
  { cite: at(KA, 'config.hide_credentials / headers', 'false sends key to upstream'), request: ka('1', '/request', { apikey: 'kong' }), expect: { status: 200, upstream: { headers: { apikey: 'kong' } } } },
  { cite: at(KA, 'config.hide_credentials / headers', "true doesn't send key to upstream"), request: ka('2', '/request', { apikey: 'kong' }), expect: { status: 200, upstream: { headers: { apikey: null } } } },
  { cite: at(KA, 'config.anonymous', 'works with right credentials and anonymous'), request: ka('3', '/request?apikey=kong'), expect: { status: 200, upstream: { headers: { 'x-consumer-username': 'bob', 'x-anonymous-consumer': null } } } },
  { cite: at(KA, 'config.anonymous', 'works with wrong credentials and anonymous'), request: ka('3', '/request'), expect: { status: 200, upstream: { headers: { 'x-anonymous-consumer': 'true', 'x-consumer-username': 'no-body' } } } },
  // jwt (Kong 3.x: every 401 carries WWW-Authenticate: Bearer, with error="invalid_token" once a token was presented)
  { cite: at(JW, 'refusals', 'returns 401 Unauthorized if no JWT is found in the request'), request: jw('jwt1.com', '/request'), expect: { status: 401, json: { message: 'Unauthorized' }, headers: { 'www-authenticate': 'Bearer' } } },
  { cite: at(JW, 'refusals', 'returns 401 if the claims do not contain the key to identify a secret'), request: jw('jwt1.com', '/request', bearer(hs256({ exp: FUTURE }))), expect: { status: 401, json: { message: "No mandatory 'iss' in claims" }, headers: { 'www-authenticate': INVALID } } },
  { cite: at(JW, 'refusals', 'returns 401 if the claims do not contain a valid key to identify a secret'), request: jw('jwt1.com', '/request', bearer(hs256({ iss: '' }))), expect: { status: 401, json: { message: "Invalid 'iss' in claims" }, headers: { 'www-authenticate': INVALID } } },
  { cite: at(JW, 'refusals', 'returns 401 Forbidden if the iss does not match a credential'), request: jw('jwt1.com', '/request', bearer(hs256({ iss: 'nobody' }))), expect: { status: 401, json: { message: "No credentials found for given 'iss'" }, headers: { 'www-authenticate': INVALID } } },
  { cite: at(JW, 'refusals', 'returns 401 Forbidden if the signature is invalid'), request: jw('jwt1.com', '/request', bearer(hs256({ iss: 'jwt-key' }, 'not-the-secret'))), expect: { status: 401, json: { message: 'Invalid signature' }, headers: { 'www-authenticate': INVALID } } },
  { cite: at(JW, 'refusals', 'returns 401 Forbidden if the alg does not match the credential'), request: jw('jwt1.com', '/request', bearer(hs256({ iss: 'jwt-key' }, JWT_SECRET, { typ: 'JWT', alg: 'HS512' }))), expect: { status: 401, json: { message: 'Invalid algorithm' }, headers: { 'www-authenticate': INVALID } } },
  { cite: at(JW, 'refusals', 'returns 401 Forbidden if an RS256 credential gets an HS256 token signed with its public key'), request: jw('jwt1.com', '/request', bearer(hs256({ iss: 'rsa-key' }, RSA_PUBLIC_PEM))), expect: { status: 401, json: { message: 'Invalid algorithm' }, headers: { 'www-authenticate': INVALID } } },
  { cite: at(JW, 'refusals', 'returns 401 if the token is not a JWT'), request: jw('jwt1.com', '/request', bearer('a-b-c')), expect: { status: 401, json: { message: 'Bad token; invalid JSON' }, headers: { 'www-authenticate': INVALID } } },
  { cite: at(JW, 'refusals', 'returns 401 if several tokens are given'), request: jw('jwt1.com', `/request?jwt=${GOLD}`, bearer(GOOD)), expect: { status: 401, json: { message: 'Multiple tokens provided' }, headers: { 'www-authenticate': INVALID } } },
  { cite: at(JW, 'refusals', 'returns 401 on a jwt query parameter without a value'), request: jw('jwt1.com', '/request?jwt'), expect: { status: 401, json: { message: 'Unrecognizable token' } } },
  { cite: at(JW, 'HS256', 'proxies the request with token and consumer headers if it was verified'), request: jw('jwt1.com', '/request', bearer(GOOD)), expect: { status: 200, upstream: { headers: { authorization: `Bearer ${GOOD}`, 'x-consumer-username': 'jwt_tests_consumer', 'x-consumer-custom-id': 'jwt-custom', 'x-consumer-id': '*', 'x-credential-identifier': 'jwt-key', 'x-anonymous-consumer': null, 'x-frontdesk-jwt': null } } } },
  { cite: at(JW, 'HS256', 'accepts a bearer scheme in lower case'), request: jw('jwt1.com', '/request', { authorization: `bearer ${GOOD}` }), expect: { status: 200, upstream: { headers: { 'x-consumer-username': 'jwt_tests_consumer' } } } },
  { cite: at(JW, 'HS256', 'does not verify exp unless claims_to_verify names it'), request: jw('jwt1.com', '/request', bearer(hs256({ iss: 'jwt-key', exp: PAST }))), expect: { status: 200, upstream: {} } },
  { cite: at(JW, 'HS256', 'drops the consumer headers a client sent'), request: jw('jwt1.com', '/request', { ...bearer(GOOD), 'x-consumer-username': 'admin', 'x-consumer-groups': 'admins' }), expect: { status: 200, upstream: { headers: { 'x-consumer-username': 'jwt_tests_consumer', 'x-consumer-groups': null } } } },
  { cite: at(JW, 'RS256', 'verifies JWT'), request: jw('jwt1.com', '/request', bearer(rs256({ iss: 'rsa-key' }))), expect: { status: 200, upstream: { headers: { 'x-consumer-username': 'jwt_tests_consumer', 'x-credential-identifier': 'rsa-key' } } } },
  { cite: at(JW, 'JWT in params', 'finds the JWT if given in URL parameters'), request: jw('jwt1.com', `/request?jwt=${GOOD}`), expect: { status: 200, upstream: { headers: { 'x-consumer-username': 'jwt_tests_consumer' } } } },
  { cite: at(JW, 'JWT in params', 'finds the JWT if given in a custom URL parameter'), request: jw('jwt6.com', `/request?token=${GOOD}`), expect: { status: 200, upstream: { headers: { 'x-consumer-username': 'jwt_tests_consumer' } } } },
  { cite: at(JW, 'JWT in cookies', 'finds the JWT if given in cookie crumble'), request: jw('jwt6.com', '/request', { cookie: `crumble=${GOOD}; path=/;domain=.jwt6.com` }), expect: { status: 200, upstream: { headers: { 'x-consumer-username': 'jwt_tests_consumer' } } } },
  { cite: at(JW, 'JWT in cookies', 'returns 401 if cookie value is an invalid JWT'), request: jw('jwt6.com', '/request', { cookie: 'silly=not-a-jwt' }), expect: { status: 401, json: { message: 'Bad token; invalid JSON' } } },
  { cite: at(JW, 'JWT in cookies', 'returns 401 Unauthorized if the JWT is in a cookie not configured'), request: jw('jwt6.com', '/request', { cookie: `monster=${GOOD}` }), expect: { status: 401, json: { message: 'Unauthorized' } } },
  { cite: at(JW, 'claims_to_verify', 'returns 401 if the JWT has expired'), request: jw('jwt2.com', '/request', bearer(hs256({ iss: 'jwt-key', exp: PAST, nbf: PAST }))), expect: { status: 401, json: { exp: 'token expired' }, headers: { 'www-authenticate': INVALID } } },
  { cite: at(JW, 'claims_to_verify', 'returns 401 if nbf is in the future and exp is missing'), request: jw('jwt2.com', '/request', bearer(hs256({ iss: 'jwt-key', nbf: FUTURE }))), expect: { status: 401, json: { exp: 'must be a number', nbf: 'token not valid yet' } } },
  { cite: at(JW, 'claims_to_verify', 'proxies a token within exp and nbf'), request: jw('jwt2.com', '/request', bearer(hs256({ iss: 'jwt-key', exp: FUTURE, nbf: PAST }))), expect: { status: 200, upstream: {} } },
  { cite: at(JW, 'maximum_expiration', 'returns 401 if exp is beyond maximum_expiration'), request: jw('jwt5.com', '/request', bearer(GOOD)), expect: { status: 401, json: { exp: 'exceeds maximum allowed expiration' } } },
  { cite: at(JW, 'config.anonymous', 'works with right credentials and anonymous'), request: jw('jwt3.com', '/request', bearer(GOOD)), expect: { status: 200, upstream: { headers: { 'x-consumer-username': 'jwt_tests_consumer', 'x-anonymous-consumer': null } } } },
  { cite: at(JW, 'config.anonymous', 'works with wrong credentials and anonymous'), request: jw('jwt3.com', '/request', bearer(hs256({ iss: 'jwt-key' }, 'wrong'))), expect: { status: 200, upstream: { headers: { 'x-consumer-username': 'no-body', 'x-anonymous-consumer': 'true', 'x-credential-identifier': null } } } },
  { cite: at(JW, 'config.anonymous', 'works with no credentials and anonymous'), request: jw('jwt3.com', '/request'), expect: { status: 200, upstream: { headers: { 'x-consumer-id': ANONYMOUS_ID, 'x-anonymous-consumer': 'true' } } } },
  { cite: at(JW, 'preflight', 'returns 200 on OPTIONS requests if run_on_preflight is false'), request: jw('jwt4.com', '/request', {}, 'OPTIONS'), expect: { status: 200, upstream: {} } },
  { cite: at(JW, 'preflight', 'returns Unauthorized on OPTIONS requests if run_on_preflight is true'), request: jw('jwt1.com', '/request', {}, 'OPTIONS'), expect: { status: 401, json: { message: 'Unauthorized' } } },
  // acl (behind jwt)
  { cite: at(AC, 'Simple lists', 'should work when allowed'), request: jw('acl1.com', '/request', bearer(GOLD)), expect: { status: 200, upstream: { headers: { 'x-consumer-groups': 'gold, silver', 'x-consumer-username': 'gold_member' } } } },
  { cite: at(AC, 'Simple lists', 'should fail when not allowed'), request: jw('acl1.com', '/request', bearer(GOOD)), expect: { status: 403, json: { message: 'You cannot consume this service' } } },
  { cite: at(AC, 'Simple lists', 'should fail when a consumer without groups is not allowed'), request: jw('acl1.com', '/request', bearer(NOGROUP)), expect: { status: 403, json: { message: 'You cannot consume this service' } } },
  { cite: at(AC, 'Simple lists', 'should fail when denied'), request: jw('acl2.com', '/request', bearer(GOLD)), expect: { status: 403, json: { message: 'You cannot consume this service' } } },
  { cite: at(AC, 'Simple lists', 'should work when not denied'), request: jw('acl2.com', '/request', bearer(GOOD)), expect: { status: 200, upstream: { headers: { 'x-consumer-username': 'jwt_tests_consumer' } } } },
  { cite: at(AC, 'Simple lists', 'should not send x-consumer-groups when hide_groups_header is true'), request: jw('acl3.com', '/request', bearer(GOLD)), expect: { status: 200, upstream: { headers: { 'x-consumer-groups': null } } } },
  { cite: at(AC, 'Simple lists', 'should fail with 401 before the consumer is known'), request: jw('acl1.com', '/request'), expect: { status: 401, json: { message: 'Unauthorized' } } },
];

// cors
const CORS_DEFAULT_METHODS = 'GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT';
const cors = (host: string, headers: Record<string, string> = {}, method = 'GET', path = '/'): PluginRequest => ({ method, path, headers: { host, ...headers } });
const preflight = (host: string, origin: string, more: Record<string, string> = {}) =>
  cors(host, { origin, 'access-control-request-method': 'GET', ...more }, 'OPTIONS');
/** Kong's preflight answer headers for an accepted origin with the defaults (the regex test cases). */
const NO_OTHER_CORS = { 'access-control-allow-headers': null, 'access-control-expose-headers': null, 'access-control-allow-credentials': null, 'access-control-max-age': null };
const lua = (origins: string[]) => `{ ${origins.map((o) => `"${o.replaceAll('\\', '\\\\')}"`).join(', ')} }`;
const OPT = 'HTTP method: OPTIONS';
const OTH = 'HTTP method: others';

const CORS_CASES: PluginCase[] = [
  ...CORS_REGEX_CASES.flatMap((tc, i) => Object.entries(tc.tests).sort(([a], [b]) => (a < b ? -1 : 1)).map(([origin, accept]): PluginCase => ({
    cite: at(CORS, OPT, `given ${origin}, ${lua(tc.origins)} will ${accept ? 'accept' : 'reject'}`),
    request: preflight(`cors-regex-${i + 1}.test`, origin),
    expect: accept
      ? { status: 200, headers: { 'access-control-allow-methods': CORS_DEFAULT_METHODS, 'access-control-allow-origin': accept === true ? origin : accept, ...NO_OTHER_CORS } }
      : { status: 200, headers: { 'access-control-allow-origin': null } },
  }))),
  { cite: at(CORS, OPT, 'gives appropriate defaults'), request: preflight('cors1.test', 'origin1.test'), expect: { status: 200, headers: { 'content-length': '0', 'access-control-allow-methods': CORS_DEFAULT_METHODS, 'access-control-allow-origin': '*', ...NO_OTHER_CORS, vary: null } } },
  { cite: at(CORS, OPT, 'gives * wildcard when config.origins is empty'), request: preflight('cors-empty-origins.test', 'empty-origin.test'), expect: { status: 200, headers: { 'content-length': '0', 'access-control-allow-methods': CORS_DEFAULT_METHODS, 'access-control-allow-origin': '*', ...NO_OTHER_CORS, vary: null } } },
  { cite: at(CORS, OPT, 'gives appropriate defaults when origin is explicitly set to * and config.credentials=true'), request: preflight('cors5.test', 'origin5.test'), expect: { status: 200, headers: { 'content-length': '0', 'access-control-allow-methods': CORS_DEFAULT_METHODS, 'access-control-allow-origin': 'origin5.test', 'access-control-allow-credentials': 'true', vary: 'Origin', 'access-control-allow-headers': null, 'access-control-expose-headers': null, 'access-control-max-age': null } } },
  { cite: at(CORS, OPT, 'gives * wildcard when origin has multiple entries and have * included'), request: preflight('cors14.test', 'http://www.example.net'), expect: { status: 200, headers: { 'content-length': '0', 'access-control-allow-methods': CORS_DEFAULT_METHODS, 'access-control-allow-origin': '*', ...NO_OTHER_CORS } } },
  { cite: at(CORS, OPT, 'accepts config options'), request: preflight('cors2.test', 'origin5.test'), expect: { status: 200, headers: { 'content-length': '0', 'access-control-allow-methods': 'GET', 'access-control-allow-origin': 'example.test', 'access-control-max-age': '23', 'access-control-allow-credentials': 'true', 'access-control-allow-headers': 'origin,type,accepts', vary: 'Origin', 'access-control-expose-headers': null } } },
  { cite: at(CORS, OPT, 'replies with request-headers if present in request'), request: preflight('cors5.test', 'origin5.test', { 'access-control-request-headers': 'origin,accepts' }), expect: { status: 200, headers: { 'content-length': '0', 'access-control-allow-headers': 'origin,accepts' } } },
  // Not a preflight (no Access-Control-Request-Method): proxied, as Kong does.
  { cite: at(CORS, OPT, 'properly validates flat strings'), request: cors('cors10.test', { origin: 'http://my-site.test' }, 'OPTIONS'), expect: { status: 200, upstream: {}, headers: { 'access-control-allow-origin': 'http://my-site.test' } } },
  { cite: at(CORS, OPT, 'properly validates flat strings'), request: cors('cors10.test', { origin: 'http://bad-guys.test' }, 'OPTIONS'), expect: { status: 200, upstream: {}, headers: { 'access-control-allow-origin': null } } },
  { cite: at(CORS, OPT, 'properly validates flat strings'), request: cors('cors10.test', { origin: 'http://my-site.test.bad-guys.test' }, 'OPTIONS'), expect: { status: 200, upstream: {}, headers: { 'access-control-allow-origin': null } } },
  { cite: at(CORS, OPT, 'support private-network'), request: cors('cors13.test', { origin: 'allowed-domain.test', 'access-control-request-private-network': 'true', 'access-control-request-method': 'PUT' }, 'OPTIONS'), expect: { status: 200, headers: { 'access-control-allow-private-network': 'true' } } },
  { cite: at(CORS, OTH, 'gives appropriate defaults'), request: cors('cors1.test'), expect: { status: 200, upstream: {}, headers: { 'access-control-allow-origin': '*', 'access-control-allow-methods': null, ...NO_OTHER_CORS, vary: null } } },
  { cite: at(CORS, OTH, 'proxies a non-preflight OPTIONS request'), request: cors('cors1.test', {}, 'OPTIONS', '/anything'), expect: { status: 200, upstream: {}, headers: { 'access-control-allow-origin': '*', 'access-control-allow-methods': null, ...NO_OTHER_CORS, vary: null } } },
  { cite: at(CORS, OTH, 'accepts config options'), request: cors('cors2.test'), expect: { status: 200, upstream: {}, headers: { 'access-control-allow-origin': 'example.test', 'access-control-expose-headers': 'x-auth-token', 'access-control-allow-credentials': 'true', vary: 'Origin', 'access-control-allow-methods': null, 'access-control-allow-headers': null, 'access-control-max-age': null } } },
  { cite: at(CORS, OTH, 'works even when upstream timeouts'), request: cors('cors-timeout.test'), expect: { status: 502, headers: { 'access-control-allow-origin': 'example.test', 'access-control-expose-headers': 'x-auth-token', vary: 'Origin', 'access-control-allow-credentials': null, 'access-control-allow-methods': null, 'access-control-allow-headers': null, 'access-control-max-age': null } } },
  { cite: at(CORS, OTH, 'works with 404 responses'), request: cors('cors1.test', {}, 'GET', '/status/404'), expect: { status: 404, upstream: {}, headers: { 'access-control-allow-origin': '*', 'access-control-allow-methods': null, ...NO_OTHER_CORS, vary: null } } },
  { cite: at(CORS, OTH, 'works with 40x responses returned by another plugin'), request: cors('cors4.test'), expect: { status: 401, headers: { 'access-control-allow-origin': '*', 'access-control-allow-methods': null, ...NO_OTHER_CORS, vary: null } } },
  { cite: at(CORS, OTH, 'sets CORS orgin based on origin host'), request: cors('cors6.test', { origin: 'example.test' }), expect: { status: 200, upstream: {}, headers: { 'access-control-allow-origin': 'example.test', vary: 'Origin' } } },
  ...(['example.test', 'www.example.test', 'example-foo.test', 'www.example-foo.test', 'www.example-fo0.test'].map((domain): PluginCase => ({
    cite: at(CORS, OTH, 'sets CORS orgin based on origin host'), request: cors('cors9.test', { origin: domain }),
    expect: { status: 200, upstream: {}, headers: { 'access-control-allow-origin': domain === 'www.example-fo0.test' ? null : domain, vary: 'Origin' } },
  }))),
  { cite: at(CORS, OTH, "sets Vary and don't override existing Vary header"), request: cors('cors-upstream.test', { origin: 'example.test' }, 'GET', '/response-headers?vary=Accept-Encoding'), expect: { status: 200, upstream: {}, headers: { vary: 'Accept-Encoding, Origin' } } },
  { cite: at(CORS, OTH, 'does not automatically parse the host'), request: cors('cors6.test', { origin: 'http://example.test' }), expect: { status: 200, upstream: {}, headers: { 'access-control-allow-origin': null } } },
  { cite: at(CORS, OTH, 'does not automatically parse the host'), request: cors('cors6.test', { origin: 'https://example.test' }), expect: { status: 200, upstream: {}, headers: { 'access-control-allow-origin': null } } },
  ...([['http://my-site.test', 'http://my-site.test'], ['http://my-site.test:80', 'http://my-site.test'], ['http://my-site.test:8000', null], ['https://my-site.test', null], ['https://my-other-site.test:9000', 'https://my-other-site.test:9000'], ['https://my-other-site.test:9001', null]] as const).map(([origin, acao]): PluginCase => ({
    cite: at(CORS, OTH, 'validates scheme and port'), request: cors('cors11.test', { origin }), expect: { status: 200, upstream: {}, headers: { 'access-control-allow-origin': acao } },
  })),
  { cite: at(CORS, OTH, 'does not sets CORS origin if origin host is not in origin_domains list'), request: cors('cors6.test', { origin: 'http://www.example.net' }), expect: { status: 200, upstream: {}, headers: { 'access-control-allow-origin': null } } },
  { cite: at(CORS, OTH, 'responds with the requested Origin when config.credentials=true'), request: cors('cors5.test', { origin: 'http://www.example.net' }), expect: { status: 200, upstream: {}, headers: { 'access-control-allow-origin': 'http://www.example.net', 'access-control-allow-credentials': 'true', vary: 'Origin' } } },
  { cite: at(CORS, OTH, 'responds with the requested Origin (including port) when config.credentials=true'), request: cors('cors5.test', { origin: 'http://www.example.net:3000' }), expect: { status: 200, upstream: {}, headers: { 'access-control-allow-origin': 'http://www.example.net:3000', 'access-control-allow-credentials': 'true', vary: 'Origin' } } },
  { cite: at(CORS, OTH, 'responds with * when origin is explicitly set to * and config.credentials=false'), request: cors('cors7.test', { origin: 'http://www.example.net' }), expect: { status: 200, upstream: {}, headers: { 'access-control-allow-origin': '*', 'access-control-allow-credentials': null, vary: null } } },
  { cite: at(CORS, OTH, 'responds with * when origin has multiple entries and have * included'), request: cors('cors14.test', { origin: 'http://www.example.net' }), expect: { status: 200, upstream: {}, headers: { 'access-control-allow-origin': '*' } } },
  { cite: at(CORS, OTH, 'removes upstream ACAO header when no match is found'), request: cors('cors12.test', { origin: 'allowed-domain.test' }, 'GET', '/response-headers?Response-Header=is-added&Access-Control-Allow-Origin=*'), expect: { status: 200, upstream: { headers: { origin: 'allowed-domain.test' } }, headers: { 'response-header': 'is-added', 'access-control-allow-origin': 'allowed-domain.test', 'access-control-allow-credentials': 'true', vary: 'Origin' } } },
  { cite: at(CORS, OTH, 'removes upstream ACAO header when no match is found'), request: cors('cors12.test', { origin: 'disallowed-domain.test' }, 'GET', '/response-headers?Response-Header=is-added&Access-Control-Allow-Origin=*'), expect: { status: 200, upstream: { headers: { origin: 'disallowed-domain.test' } }, headers: { 'response-header': 'is-added', 'access-control-allow-origin': null, 'access-control-allow-credentials': 'true' } } },
  ...[1, 2].map((i): PluginCase => ({
    cite: at(CORS, OTH, `when allow_origin_absent is disabled with missing Origin header[${i}], no ACAO is returned`), request: cors('cors15.test', i === 2 ? { origin: '' } : {}),
    expect: { status: 200, upstream: {}, headers: { 'access-control-allow-origin': null, 'access-control-allow-credentials': null, 'access-control-expose-headers': null } },
  })),
  ...[1, 2].map((i): PluginCase => ({
    cite: at(CORS, OTH, `when allow_origin_absent is enabled with missing Origin header[${i}], ACAO is returned`), request: cors('cors16.test', i === 2 ? { origin: '' } : {}),
    expect: { status: 200, upstream: {}, headers: { 'access-control-allow-origin': 'foo.bar', 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'x-auth-token' } },
  })),
];

// ip-restriction (the client is 127.0.0.1; Kong 3.4+'s default message names it)
const ipr = (n: number, path = '/status/200'): PluginRequest => ({ path, headers: { host: `ip-restriction${n}.test` } });
const NOT_ALLOWED = { status: 403, json: { message: 'IP address not allowed: 127.0.0.1' } };
const IPR_CASES: PluginCase[] = [
  { cite: at(IPR, 'deny', 'blocks a request when the IP is denied'), request: ipr(1), expect: NOT_ALLOWED },
  { cite: at(IPR, 'deny', 'blocks a request when the IP is denied with status/message'), request: ipr(12), expect: { status: 401, json: { message: 'Forbidden' } } },
  { cite: at(IPR, 'deny', 'allows a request when the IP is not denied'), request: ipr(2, '/request'), expect: { status: 200, upstream: {} } },
  { cite: at(IPR, 'deny', 'blocks IP with CIDR'), request: ipr(5), expect: NOT_ALLOWED },
  { cite: at(IPR, 'deny', 'blocks an IP on a allowed CIDR range'), request: ipr(10), expect: NOT_ALLOWED },
  { cite: at(IPR, 'deny', 'takes precedence over an allowed IP'), request: ipr(9), expect: NOT_ALLOWED },
  { cite: at(IPR, 'deny', 'takes precedence over an allowed CIDR range'), request: ipr(11), expect: NOT_ALLOWED },
  { cite: at(IPR, 'X-Forwarded-For', 'allows without any X-Forwarded-For and allowed IP'), request: ipr(7, '/request'), expect: { status: 200, upstream: {} } },
  { cite: at(IPR, 'allow', 'blocks a request when the IP is not allowed'), request: ipr(3), expect: NOT_ALLOWED },
  { cite: at(IPR, 'allow', 'allows a allowed IP'), request: ipr(4), expect: { status: 200, upstream: {} } },
  { cite: at(IPR, 'X-Forwarded-For', 'blocks without any X-Forwarded-For and not allowed IP'), request: ipr(6), expect: NOT_ALLOWED },
  { cite: at(IPR, '#regression', 'handles a CIDR entry with 0.0.0.0/0'), request: ipr(8), expect: { status: 200, upstream: {} } },
];

// bot-detection (Kong's kong.response.error(403): {"message":"Forbidden"})
const bot = (host: string, userAgent?: string): PluginRequest => ({ path: '/request', headers: { host, ...(userAgent !== undefined ? { 'user-agent': userAgent } : {}) } });
const BOT_REFUSED = { status: 403, json: { message: 'Forbidden' } };
const BOT_DESCRIBE = 'Plugin: bot-detection (access)';
const BOT_CASES: PluginCase[] = [
  ...[undefined, 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/50.0.2661.102 Safari/537.36', HELLOWORLD, 'curl/7.43.0'].map((ua, i): PluginCase => ({
    cite: at(BOT, BOT_DESCRIBE, `allows regular requests[${i + 1}]`), request: bot('bot.test', ua), expect: { status: 200, upstream: {} },
  })),
  { cite: at(BOT, BOT_DESCRIBE, 'blocks bots[1]'), request: bot('bot.test', 'Googlebot/2.1 (+http://www.google.com/bot.html)'), expect: BOT_REFUSED },
  { cite: at(BOT, BOT_DESCRIBE, 'blocks bots[2]'), request: bot('bot.test', FACEBOOK), expect: BOT_REFUSED },
  { cite: at(BOT, BOT_DESCRIBE, 'blocks denied user-agents'), request: bot('bot2.test', HELLOWORLD), expect: BOT_REFUSED },
  { cite: at(BOT, BOT_DESCRIBE, 'allows allowed user-agents'), request: bot('bot3.test', FACEBOOK), expect: { status: 200, upstream: {} } },
  // examine_agent: allow is searched first, and an allowed agent is never checked against deny.
  { cite: `${BOT_HANDLER} examine_agent: allow before deny`, request: bot('bot4.test', HELLOWORLD), expect: { status: 200, upstream: {} } },
  { cite: `${BOT_HANDLER} examine_agent: deny searched anywhere in the agent`, request: bot('bot4.test', `Say ${HELLOWORLD}`), expect: BOT_REFUSED },
];

// request-size-limiting (TEST_SIZE 2, in megabytes unless the route names a unit)
const EXCEEDED = { message: 'Request size limit exceeded' };
const post = (host: string, bytes: number, opts: { chunked?: boolean; expect?: boolean } = {}): PluginRequest => ({
  method: 'POST', path: '/request', body: { bytes, chunked: opts.chunked ?? false },
  headers: { host, ...(opts.expect ? { expect: '100-continue' } : {}) },
});
const WITH_CL = 'with Content-Length';
const CHUNKED = 'without Content-Length(chunked request body)';
const BIG = '[request body size > nginx_http_client_body_buffer_size]';
const SMALL = '[request body size < nginx_http_client_body_buffer_size]';
const sizeCases = (d: string, host: string, size: number, chunked: boolean): PluginCase[] => [
  { cite: at(RSL, d, 'works if size is lower than limit'), request: post(host, size, { chunked }), expect: { status: 200, upstream: {} } },
  { cite: at(RSL, d, 'works if size is lower than limit and Expect header'), request: post(host, size, { chunked, expect: true }), expect: { status: 200, upstream: {} } },
  { cite: at(RSL, d, 'blocks if size is greater than limit'), request: post(host, size + 1, { chunked }), expect: { status: 413, json: EXCEEDED } },
  { cite: at(RSL, d, 'blocks if size is greater than limit and Expect header'), request: post(host, size + 1, { chunked, expect: true }), expect: { status: 417, json: EXCEEDED } },
];
const RSL_CASES: PluginCase[] = [
  ...sizeCases(WITH_CL, 'limit.test', TEST_SIZE * MB, false),
  ...SIZE_UNITS.flatMap(([unit, factor]): PluginCase[] => [
    { cite: at(RSL, WITH_CL, `blocks if size is greater than limit when unit in ${unit}`), request: post(`limit_${unit}.test`, TEST_SIZE * factor + 1), expect: { status: 413, json: EXCEEDED } },
    { cite: at(RSL, WITH_CL, `works if size is less than limit when unit in ${unit}`), request: post(`limit_${unit}.test`, TEST_SIZE * factor - 1), expect: { status: 200, upstream: {} } },
  ]),
  ...sizeCases(BIG, 'limit.test', TEST_SIZE * MB, true),
  ...sizeCases(SMALL, 'limit_kilobytes.test', TEST_SIZE * KB, true),
  ...SIZE_UNITS.flatMap(([unit, factor]): PluginCase[] => [
    { cite: at(RSL, CHUNKED, `blocks if size is greater than limit when unit in ${unit}`), request: post(`limit_${unit}.test`, TEST_SIZE * factor + 1, { chunked: true }), expect: { status: 413, json: EXCEEDED } },
    { cite: at(RSL, CHUNKED, `works if size is less than limit when unit in ${unit}`), request: post(`limit_${unit}.test`, TEST_SIZE * factor, { chunked: true }), expect: { status: 200, upstream: {} } },
  ]),
  { cite: at(RSL, 'Content-Length header required', 'blocks if header is not provided'), request: { path: '/request', headers: { host: 'required.test' } }, expect: { status: 411 } },
];

// correlation-id
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Kong's assert.matches(UUID_PATTERN, ...) is Lua's unanchored find: a uuid#counter id matches it too. */
const UUID_ANYWHERE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
const cid = (host: string, headers: Record<string, string> = {}): PluginRequest => ({ path: '/request', headers: { host, ...headers } });
const UUID_COUNTER = (n: number) => new RegExp(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}#${n}$`);
const CID_CASES: PluginCase[] = [
  // Kong's spec runs one nginx worker, the e2e Envoy one worker: these two are the first and
  // second requests that route's counter sees, so they stay the only ones to correlation1.com.
  { cite: at(CID, 'uuid-worker generator', 'increments the counter part'), request: cid('correlation1.com'), expect: { status: 200, upstream: { headers: { 'kong-request-id': UUID_COUNTER(1) } } } },
  { cite: at(CID, 'uuid-worker generator', 'increments the counter part'), request: cid('correlation1.com'), expect: { status: 200, upstream: { headers: { 'kong-request-id': UUID_COUNTER(2), 'x-frontdesk-correlation-uuid': null } } } },
  { cite: at(CID, 'uuid generator', 'generates a unique UUID for every request'), request: cid('correlation3.com'), expect: { status: 200, upstream: { headers: { 'kong-request-id': UUID } }, differsEachTime: 'kong-request-id' } },
  { cite: at(CID, 'config options', 'echo_downstream sends uuid back to client'), request: cid('correlation3.com'), expect: { status: 200, upstream: { headers: { 'kong-request-id': UUID } }, echoes: 'kong-request-id' } },
  { cite: at(CID, 'config options', 'echo_downstream sends uuid back to client even when upstream timeouts'), request: cid('correlation-timeout.com'), expect: { status: 502, headers: { 'kong-request-id': UUID } } },
  { cite: at(CID, 'config options', 'echo_downstream does not send uuid back to client if not asked'), request: cid('correlation2.com'), expect: { status: 200, upstream: {}, headers: { 'kong-request-id': null } } },
  { cite: at(CID, 'config options', 'uses a custom header name'), request: cid('correlation2.com'), expect: { status: 200, upstream: { headers: { 'foo-bar-id': UUID_ANYWHERE } } } },
  { cite: at(CID, 'Plugin: correlation-id (access)', 'preserves an already existing header'), request: cid('correlation2.com', { 'kong-request-id': 'foobar' }), expect: { status: 200, upstream: { headers: { 'kong-request-id': 'foobar' } } } },
  { cite: at(CID, 'Plugin: correlation-id (access)', 'executes with echo_downstream when access did not execute'), request: cid('correlation5.com'), expect: { status: 418, headers: { 'kong-request-id': UUID } } },
  { cite: at(CID, 'Plugin: correlation-id (access)', 'echoes incoming with echo_downstream when access did not execute'), request: cid('correlation5.com', { 'kong-request-id': 'my very personal id' }), expect: { status: 418, headers: { 'kong-request-id': 'my very personal id' } } },
];

// basic-auth (Kong 3.9's spec; the gRPC cases, Admin API cases and the unknown anonymous are left out: see the test file)
const ba = (host: string, path: string, headers: Record<string, string> = {}): PluginRequest => ({ path, headers: { host, ...headers } });
const TEST_REALM = { 'www-authenticate': 'Basic realm="test-realm"' };
const BA_REFUSED = { status: 401, json: { message: 'Unauthorized' }, headers: TEST_REALM };
const BOB = 'Basic Ym9iOmtvbmc=';
const ALADDIN = 'Basic QWxhZGRpbjpPcGVuU2VzYW1l';
const LOGICAL_USER = new RegExp(`^(${MICKEY_ID}|${ALADDIN_ID})$`);
const BA_CASES: PluginCase[] = [
  { cite: at(BA, 'when realm is configured', 'returns Unauthorized on missing credentials'), request: ba('basic-auth1.test', '/status/200'), expect: BA_REFUSED },
  { cite: at(BA, 'when realm is default', 'returns Unauthorized on missing credentials'), request: ba('basic-auth2.test', '/status/200'), expect: { status: 401, json: { message: 'Unauthorized' }, headers: { 'www-authenticate': 'Basic realm="service"' } } },
  { cite: at(BA, 'Unauthorized', 'returns 401 Unauthorized on invalid credentials in Authorization'), request: ba('basic-auth1.test', '/status/200', { authorization: 'foobar' }), expect: BA_REFUSED },
  { cite: at(BA, 'Unauthorized', 'returns 401 Unauthorized on invalid credentials in Proxy-Authorization'), request: ba('basic-auth1.test', '/status/200', { 'proxy-authorization': 'foobar' }), expect: BA_REFUSED },
  { cite: at(BA, 'Unauthorized', 'returns 401 Unauthorized on password only'), request: ba('basic-auth1.test', '/status/200', { authorization: 'Basic a29uZw==' }), expect: BA_REFUSED },
  { cite: at(BA, 'Unauthorized', 'returns 401 Unauthorized on username only'), request: ba('basic-auth1.test', '/status/200', { authorization: 'Basic Ym9i' }), expect: BA_REFUSED },
  { cite: at(BA, 'Unauthorized', 'authenticates valid credentials in Authorization'), request: ba('basic-auth1.test', '/status/200', { authorization: BOB }), expect: { status: 200, upstream: {} } },
  { cite: at(BA, 'Unauthorized', 'authenticates valid credentials in Authorization'), request: ba('basic-auth1.test', '/request', { authorization: 'Basic dXNlcjEyMzpwYXNzd29yZDEyMw==' }), expect: { status: 200, upstream: { headers: { 'x-consumer-username': 'bob', 'x-credential-identifier': 'user123' } } } },
  { cite: at(BA, 'Unauthorized', "authenticates with a password containing ':'"), request: ba('basic-auth1.test', '/request', { authorization: 'Basic dXNlcjMyMTpwYXNzd29yZDoxMjM=' }), expect: { status: 200, upstream: { headers: { 'x-consumer-username': 'bob', 'x-credential-identifier': 'user321' } } } },
  { cite: at(BA, 'Unauthorized', 'returns 401 for valid Base64 encoding'), request: ba('basic-auth1.test', '/status/200', { authorization: 'Basic adXNlcjEyMzpwYXNzd29yZDEyMw==' }), expect: BA_REFUSED },
  { cite: at(BA, 'Unauthorized', 'authenticates valid credentials in Proxy-Authorization'), request: ba('basic-auth1.test', '/status/200', { 'proxy-authorization': BOB }), expect: { status: 200, upstream: {} } },
  { cite: at(BA, 'Consumer headers', 'sends Consumer headers to upstream'), request: ba('basic-auth1.test', '/request', { authorization: BOB }), expect: { status: 200, upstream: { headers: { 'x-consumer-id': '*', 'x-consumer-username': 'bob', 'x-credential-identifier': 'bob' } } } },
  { cite: at(BA, 'config.hide_credentials', 'false sends key to upstream'), request: ba('basic-auth1.test', '/request', { authorization: BOB }), expect: { status: 200, upstream: { headers: { authorization: BOB } } } },
  { cite: at(BA, 'config.hide_credentials', "true doesn't send key to upstream"), request: ba('basic-auth2.test', '/request', { authorization: BOB }), expect: { status: 200, upstream: { headers: { authorization: null } } } },
  { cite: at(BA, 'config.anonymous', 'works with right credentials and anonymous'), request: ba('basic-auth3.test', '/request', { authorization: 'Basic dXNlcjEyMzpwYXNzd29yZDEyMw==' }), expect: { status: 200, upstream: { headers: { 'x-consumer-username': 'bob', 'x-credential-identifier': 'user123', 'x-anonymous-consumer': null } } } },
  { cite: at(BA, 'config.anonymous', 'works with wrong credentials and anonymous'), request: ba('basic-auth3.test', '/request'), expect: { status: 200, upstream: { headers: { 'x-anonymous-consumer': 'true', 'x-consumer-username': 'no-body', 'x-credential-identifier': null } } } },
  { cite: at(BA, 'config.anonymous', 'works with wrong credentials and username in anonymous'), request: ba('basic-auth5.test', '/request'), expect: { status: 200, upstream: { headers: { 'x-anonymous-consumer': 'true', 'x-consumer-username': 'no-body' } } } },
  { cite: at(BA, 'multiple auth without anonymous, logical AND', 'passes with all credentials provided'), request: ba('logical-and.test', '/request', { apikey: 'Mouse', authorization: ALADDIN }), expect: { status: 200, upstream: { headers: { 'x-anonymous-consumer': null, 'x-consumer-id': LOGICAL_USER } } } },
  { cite: at(BA, 'multiple auth without anonymous, logical AND', 'fails 401, with only the first credential provided'), request: ba('logical-and.test', '/request', { apikey: 'Mouse' }), expect: { status: 401 } },
  { cite: at(BA, 'multiple auth without anonymous, logical AND', 'fails 401, with only the second credential provided'), request: ba('logical-and.test', '/request', { authorization: ALADDIN }), expect: { status: 401, headers: { 'www-authenticate': 'Key' } } },
  { cite: at(BA, 'multiple auth without anonymous, logical AND', 'fails 401, with no credential provided'), request: ba('logical-and.test', '/request'), expect: { status: 401, headers: { 'www-authenticate': 'Key' } } },
  { cite: at(BA, 'multiple auth with anonymous, logical OR', 'passes with all credentials provided'), request: ba('logical-or.test', '/request', { apikey: 'Mouse', authorization: ALADDIN }), expect: { status: 200, upstream: { headers: { 'x-anonymous-consumer': null, 'x-consumer-id': LOGICAL_USER } } } },
  { cite: at(BA, 'multiple auth with anonymous, logical OR', 'passes with only the first credential provided'), request: ba('logical-or.test', '/request', { apikey: 'Mouse' }), expect: { status: 200, upstream: { headers: { 'x-anonymous-consumer': null, 'x-consumer-id': MICKEY_ID } } } },
  { cite: at(BA, 'multiple auth with anonymous, logical OR', 'passes with only the second credential provided'), request: ba('logical-or.test', '/request', { authorization: ALADDIN }), expect: { status: 200, upstream: { headers: { 'x-anonymous-consumer': null, 'x-consumer-id': ALADDIN_ID } } } },
  { cite: at(BA, 'multiple auth with anonymous, logical OR', 'passes with no credential provided'), request: ba('logical-or.test', '/request'), expect: { status: 200, upstream: { headers: { 'x-anonymous-consumer': 'true', 'x-consumer-id': LOGICAL_ANONYMOUS_ID } } } },
];

// redirect: kong.response.exit(status_code, "redirecting", { Location = ... }): a string body,
// and no Content-Type (Kong's proxy location has `default_type ''`, kong/templates/nginx_kong.lua).
const rd = (host: string, path = '/status/200', headers: Record<string, string> = {}): PluginRequest => ({ path, headers: { host, ...headers } });
const redirected = (status: number, location: string): PluginExpect => ({ status, body: 'redirecting', headers: { location, 'content-type': null } });
/** Beside a plugin that may answer (key-auth's 401 keeps its JSON type), Envoy's text/plain stays on the redirect: docs/plugins.md. */
const redirectedTyped = (status: number, location: string): PluginExpect => ({ status, body: 'redirecting', headers: { location, 'content-type': 'text/plain' } });
const RD_DESCRIBE = 'Plugin: redirect (access) [#off]';
const RD_CASES: PluginCase[] = [
  { cite: at(RD, `${RD_DESCRIBE} status code`, 'default status code'), request: rd('api1.redirect.test'), expect: redirected(301, 'https://example.com') },
  { cite: at(RD, `${RD_DESCRIBE} status code`, 'custom status code'), request: rd('api2.redirect.test'), expect: redirected(302, 'https://example.com') },
  { cite: at(RD, `${RD_DESCRIBE} location header`, 'supports path and query params in location'), request: rd('api3.redirect.test'), expect: redirected(301, 'https://example.com/path?foo=bar') },
  { cite: at(RD, `${RD_DESCRIBE} location header`, 'keeps the existing redirect URL'), request: rd('api4.redirect.test', '/status/200?keep=this'), expect: redirected(301, 'https://example.com/status/200?keep=this') },
  // handler.lua: set_pathname(get_path()), set_search(get_raw_query()): a request without a query
  // leaves none (the location's own dropped); ada keeps the credentials, the port and the
  // fragment, and lowercases the host.
  { cite: `${RD_HANDLER} access: keep_incoming_path, a request without a query`, request: rd('api4.redirect.test', '/a/b'), expect: redirected(301, 'https://example.com/a/b') },
  { cite: `${RD_HANDLER} access: keep_incoming_path keeps the URL's credentials, port and fragment`, request: rd('redirect-keep.test', '/x/y?q=1&r=%20'), expect: redirected(301, 'https://User@example.com:8443/x/y?q=1&r=%20#top') },
  // Priorities: key-auth (1250) refuses before redirect (779) answers; redirect answers before request-termination (2).
  { cite: `${RD_HANDLER} access: key-auth (priority 1250) refuses first (779)`, request: rd('redirect-auth.test'), expect: { status: 401, json: { message: 'No API key found in request' }, headers: { 'content-type': /^application\/json/, 'www-authenticate': 'Key' } } },
  { cite: `${RD_HANDLER} access: after key-auth (priority 1250) accepted the key (779)`, request: rd('redirect-auth.test', '/status/200', { apikey: 'kong' }), expect: redirectedTyped(301, 'https://example.com/login') },
  { cite: `${RD_HANDLER} access: before request-termination (priority 779 over 2)`, request: rd('redirect-term.test'), expect: redirected(308, 'https://example.com/moved') },
  { cite: `${RD_HANDLER} access: on a route without a service, before Kong's "no Service" answer`, request: rd('redirect-serviceless.test'), expect: redirected(307, 'https://example.com/elsewhere') },
];

// key-auth: the key in a request body (key_in_body) and Kong's combination table. Kong 3.8+'s answers (see the top): an invalid key is 401 {"message":"Unauthorized"}.
const BODY_TYPES = ['application/x-www-form-urlencoded', 'application/json', 'multipart/form-data'] as const;
type BodyType = (typeof BODY_TYPES)[number];
const BOUNDARY = 'frontdesk-spec-boundary';
/** A body as Kong's spec client encodes a table of fields for `type`, with the headers that go with it. */
function fieldsBody(type: BodyType, fields: Record<string, string>): { body: { text: string }; headers: Record<string, string> } {
  const text = type === 'application/json' ? JSON.stringify(fields)
    : type === 'multipart/form-data' ? `${Object.entries(fields).map(([k, v]) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('')}--${BOUNDARY}--\r\n`
      : new URLSearchParams(fields).toString();
  return { body: { text }, headers: { 'content-type': type === 'multipart/form-data' ? `${type}; boundary=${BOUNDARY}` : type } };
}
/** How a field written by fieldsBody shows in the body text the upstream receives. */
const fieldIn = (type: BodyType, name: string, value: string) =>
  type === 'application/json' ? `"${name}":"${value}"` : type === 'multipart/form-data' ? `name="${name}"\r\n\r\n${value}` : `${name}=${value}`;
const inBody = (host: string, path: string, type: BodyType, fields: Record<string, string>, headers: Record<string, string> = {}, method?: string): PluginRequest => {
  const b = fieldsBody(type, fields);
  return { ...(method ? { method } : {}), path, body: b.body, headers: { host, ...b.headers, ...headers } };
};
const rawForm = (host: string, text: string): PluginRequest => ({ method: 'POST', path: '/status/200', body: { text }, headers: { host, 'content-type': 'application/x-www-form-urlencoded' } });
const KA_UNAUTHORIZED = (message: string): PluginExpect => ({ status: 401, json: { message }, headers: { 'www-authenticate': 'Key' } });
const KA_BODY_CASES: PluginCase[] = BODY_TYPES.flatMap((type): PluginCase[] => [
  { cite: at(KA, type, 'authenticates valid credentials'), request: inBody('key-auth5.com', '/request', type, { apikey: 'kong' }), expect: { status: 200, upstream: { headers: { 'x-consumer-username': 'bob' } } } },
  { cite: at(KA, type, 'authenticates valid credentials in query'), request: inBody('key-auth5.com', '/request?apikey=kong', type, { non_apikey: 'kong' }), expect: { status: 200, upstream: { headers: { 'x-consumer-username': 'bob' } } } },
  { cite: at(KA, type, 'authenticates valid credentials in header'), request: inBody('key-auth5.com', '/request?apikey=kong', type, { non_apikey: 'kong' }, { apikey: 'kong' }), expect: { status: 200, upstream: {} } },
  { cite: at(KA, type, 'returns 401 Unauthorized on invalid key'), request: inBody('key-auth5.com', '/status/200', type, { apikey: '123' }), expect: KA_UNAUTHORIZED('Unauthorized') },
  { cite: at(KA, 'post_data.params', `(${type}) false sends key to upstream`), request: inBody('key-auth5.com', '/request', type, { apikey: 'kong' }, {}, 'POST'), expect: { status: 200, upstream: { bodyHas: [fieldIn(type, 'apikey', 'kong')] } } },
  { cite: at(KA, 'post_data.params', `(${type}) true doesn't send key to upstream`), request: inBody('key-auth6.com', '/request', type, { apikey: 'kong' }, {}, 'POST'), expect: { status: 200, upstream: { headers: { 'x-consumer-username': 'bob' }, bodyLacks: ['apikey', 'kong'] } } },
  { cite: at(KA, 'config.hide_credentials', `(${type}) true preserves body MIME type`), request: inBody('key-auth6.com', '/request', type, { apikey: 'kong', foo: 'bar' }, {}, 'POST'), expect: { status: 200, upstream: { headers: { 'content-type': new RegExp(`^${type}`) }, bodyHas: [fieldIn(type, 'foo', 'bar')], bodyLacks: ['apikey'] } } },
]);
KA_BODY_CASES.push(
  { cite: at(KA, 'application/json', 'handles duplicated key'), request: { method: 'POST', path: '/status/200', body: { text: '{"apikey":["kong","kong"]}' }, headers: { host: 'key-auth5.com', 'content-type': 'application/json' } }, expect: KA_UNAUTHORIZED('Duplicate API key found') },
  { cite: at(KA, 'application/x-www-form-urlencoded', 'handles duplicated key'), request: rawForm('key-auth5.com', 'apikey=kong&apikey=kong'), expect: KA_UNAUTHORIZED('Duplicate API key found') },
  { cite: at(KA, 'application/x-www-form-urlencoded', 'does not identify apikey[] as api keys'), request: rawForm('key-auth5.com', 'apikey[]=kong&apikey[]=kong'), expect: KA_UNAUTHORIZED('No API key found in request') },
  { cite: at(KA, 'application/x-www-form-urlencoded', 'does not identify apikey[1] as api keys'), request: rawForm('key-auth5.com', 'apikey[1]=kong&apikey[1]=kong'), expect: KA_UNAUTHORIZED('No API key found in request') },
  { cite: at(KA, 'config.hide_credentials', "fails with 'key_in_body' and unsupported content type"), request: { path: '/status/200', body: { text: 'foobar' }, headers: { host: 'key-auth6.com', 'content-type': 'text/plain' } }, expect: KA_UNAUTHORIZED('No API key found in request') },
  // access.lua: with hide_credentials the key is taken out of the headers and the query string too, whichever it came in.
  { cite: at(KA, 'post_data.params', '(application/x-www-form-urlencoded) true: a key in the query string is stripped, the body kept'), request: inBody('key-auth6.com', '/request?apikey=kong&x=1', 'application/x-www-form-urlencoded', { foo: 'bar' }, {}, 'POST'), expect: { status: 200, upstream: { path: '/request?x=1', bodyHas: ['foo=bar'] } } },
);
const KA_MATRIX_CASES: PluginCase[] = KEY_MATRIX.map(([header, query, body, path, status], i): PluginCase => {
  const input = `${(header ?? 'n')[0]}${(query ?? 'n')[0]}${(body ?? 'n')[0]}`;
  return {
    cite: at(KA, 'Plugin: key-auth (access) [#off]', `combination #${i + 1} (${input} => ${path}) works`),
    request: {
      method: 'POST', path: `/${path}${query !== null ? `?apikey=${query}` : ''}`,
      ...(body !== null ? { body: { text: `apikey=${body}` } } : {}),
      headers: { host: 'key-matrix.test', 'content-type': 'application/x-www-form-urlencoded', ...(header !== null ? { apikey: header } : {}) },
    },
    expect: status === 200 ? { status, upstream: {} } : { status },
  };
});

KONG_PLUGIN_CASES.push(...KA_BODY_CASES, ...KA_MATRIX_CASES);

// request-transformer: headers in Envoy, the query string and bodies through the transform companion.
const RQT = 'spec/03-plugins/36-request-transformer/02-access_spec.lua';
const get = (host: string, path: string, headers: Record<string, string> = {}): PluginRequest => ({ path, headers: { host, ...headers } });
const proxied = (upstream: NonNullable<PluginExpect['upstream']>): PluginExpect => ({ status: 200, upstream });
const FORM_TYPE = 'application/x-www-form-urlencoded';
const RQT_CASES: PluginCase[] = [
  { cite: at(RQT, 'remove', 'specified header'), request: get('test4.test', '/request', { 'x-to-remove': 'true', 'x-another-header': 'true' }), expect: proxied({ headers: { 'x-to-remove': null, 'x-another-header': 'true' } }) },
  { cite: at(RQT, 'remove', 'parameters on url encoded form POST'), request: inBody('test4.test', '/request', FORM_TYPE, { toremoveform: 'yes', nottoremove: 'yes' }, {}, 'POST'), expect: proxied({ bodyHas: ['nottoremove=yes'], bodyLacks: ['toremoveform'] }) },
  { cite: at(RQT, 'remove', 'parameters from JSON body in POST'), request: inBody('test4.test', '/request', 'application/json', { toremoveform: 'yes', nottoremove: 'yes' }, {}, 'POST'), expect: proxied({ bodyHas: ['"nottoremove":"yes"'], bodyLacks: ['toremoveform'] }) },
  { cite: at(RQT, 'remove', 'does not fail if JSON body is malformed in POST'), request: { method: 'POST', path: '/request', body: { text: 'malformed json body' }, headers: { host: 'test4.test', 'content-type': 'application/json' } }, expect: proxied({ bodyHas: ['malformed json body'] }) },
  { cite: at(RQT, 'remove', 'parameters on multipart POST'), request: inBody('test4.test', '/request', 'multipart/form-data', { toremoveform: 'yes', nottoremove: 'yes' }, {}, 'POST'), expect: proxied({ bodyHas: [fieldIn('multipart/form-data', 'nottoremove', 'yes')], bodyLacks: ['toremoveform'] }) },
  { cite: at(RQT, 'remove', 'args on GET if it exist'), request: inBody('test4.test', '/request?q1=v1&q2=v2', FORM_TYPE, { hello: 'world' }), expect: proxied({ path: '/request?q2=v2' }) },
  { cite: at(RQT, 'rename', 'specified header'), request: get('test9.test', '/request', { 'x-to-rename': 'true', 'x-another-header': 'true' }), expect: proxied({ headers: { 'x-to-rename': null, 'x-is-renamed': 'true', 'x-another-header': 'true' } }) },
  { cite: at(RQT, 'rename', 'does not add as new header if header does not exist'), request: get('test9.test', '/request', { 'x-a-header': 'true' }), expect: proxied({ headers: { 'x-is-renamed': null, 'x-a-header': 'true' } }) },
  { cite: at(RQT, 'rename', 'specified parameters in url encoded body on POST'), request: inBody('test9.test', '/request', FORM_TYPE, { originalparam: 'yes' }, {}, 'POST'), expect: proxied({ bodyHas: ['renamedparam=yes'], bodyLacks: ['originalparam'] }) },
  { cite: at(RQT, 'rename', 'does not add as new parameter in url encoded body if parameter does not exist on POST'), request: inBody('test9.test', '/request', FORM_TYPE, { 'x-a-header': 'true' }, {}, 'POST'), expect: proxied({ bodyHas: ['x-a-header=true'], bodyLacks: ['renamedparam'] }) },
  { cite: at(RQT, 'rename', 'parameters from JSON body in POST'), request: inBody('test9.test', '/request', 'application/json', { originalparam: 'yes', nottorename: 'yes' }, {}, 'POST'), expect: proxied({ bodyHas: ['"renamedparam":"yes"', '"nottorename":"yes"'], bodyLacks: ['originalparam'] }) },
  { cite: at(RQT, 'rename', 'args on GET if it exists'), request: get('test9.test', '/request?originalparam=true&nottorename=true', { 'content-type': FORM_TYPE }), expect: proxied({ path: /^\/request\?(?:nottorename=true&renamedparam=true|renamedparam=true&nottorename=true)$/ }) },
  { cite: at(RQT, 'replace', 'specified header if it exist'), request: get('test5.test', '/request', { h1: 'V', h2: 'v2' }), expect: proxied({ headers: { h1: 'v1', h2: 'v2' } }) },
  { cite: at(RQT, 'replace', 'does not add as new header if header does not exist'), request: get('test5.test', '/request', { h2: 'v2' }), expect: proxied({ headers: { h1: null, h2: 'v2' } }) },
  { cite: at(RQT, 'replace', 'specified parameters in url encoded body on POST'), request: inBody('test5.test', '/request', FORM_TYPE, { p1: 'v', p2: 'v1' }, {}, 'POST'), expect: proxied({ bodyHas: ['p1=v1', 'p2=v1'] }) },
  { cite: at(RQT, 'replace', 'does not add as new parameter in url encoded body if parameter does not exist on POST'), request: inBody('test5.test', '/request', FORM_TYPE, { p2: 'v1' }, {}, 'POST'), expect: proxied({ bodyHas: ['p2=v1'], bodyLacks: ['p1'] }) },
  { cite: at(RQT, 'replace', 'specified parameters in json body on POST'), request: inBody('test5.test', '/request', 'application/json', { p1: 'v', p2: 'v1' }, {}, 'POST'), expect: proxied({ bodyHas: ['"p1":"v1"', '"p2":"v1"'] }) },
  { cite: at(RQT, 'replace', 'does not add as new parameter in json if parameter does not exist on POST'), request: inBody('test5.test', '/request', 'application/json', { p2: 'v1' }, {}, 'POST'), expect: proxied({ bodyHas: ['"p2":"v1"'], bodyLacks: ['p1'] }) },
  { cite: at(RQT, 'replace', 'args on POST if it exist'), request: inBody('test5.test', '/request?q1=v&q2=v2', FORM_TYPE, { hello: 'world' }, {}, 'POST'), expect: proxied({ path: '/request?q1=v1&q2=v2' }) },
  { cite: at(RQT, 'replace', 'does not add new args on POST if it does not exist'), request: inBody('test5.test', '/request?q2=v2', FORM_TYPE, { hello: 'world' }, {}, 'POST'), expect: proxied({ path: '/request?q2=v2' }) },
  { cite: at(RQT, 'http method', 'changes the HTTP method from GET to POST and adds JSON body'), request: get('test20.test', '/request'), expect: proxied({ method: 'POST', headers: { 'content-type': 'application/json' }, bodyHas: ['{"body":"somecontent"}'] }) },
  { cite: at(RQT, 'add', 'new headers'), request: get('test1.test', '/request'), expect: proxied({ headers: { h1: 'v1', h2: 'value:2' } }) },
  { cite: at(RQT, 'add', 'does not change or append value if header already exists'), request: get('test1.test', '/request', { h1: 'v3' }), expect: proxied({ headers: { h1: 'v3', h2: 'value:2' } }) },
  { cite: at(RQT, 'add', 'new parameter in url encoded body on POST'), request: inBody('test1.test', '/request', FORM_TYPE, { hello: 'world' }, {}, 'POST'), expect: proxied({ bodyHas: ['hello=world', 'p1=v1'] }) },
  { cite: at(RQT, 'add', 'does not change or append value to parameter in url encoded body on POST when parameter exists'), request: inBody('test1.test', '/request', FORM_TYPE, { p1: 'should not change', hello: 'world' }, {}, 'POST'), expect: proxied({ bodyHas: ['p1=should+not+change', 'hello=world'], bodyLacks: ['p1=v1'] }) },
  { cite: at(RQT, 'add', 'new parameter in JSON body on POST'), request: inBody('test1.test', '/request', 'application/json', { hello: 'world' }, {}, 'POST'), expect: proxied({ bodyHas: ['"hello":"world"', '"p1":"v1"'] }) },
  { cite: at(RQT, 'add', 'does not change or append value to parameter in JSON on POST when parameter exists'), request: inBody('test1.test', '/request', 'application/json', { p1: 'this should not change', hello: 'world' }, {}, 'POST'), expect: proxied({ bodyHas: ['"p1":"this should not change"', '"hello":"world"'] }) },
  { cite: at(RQT, 'add', 'new querystring on GET'), request: get('test1.test', '/request?q2=v2', { 'content-type': FORM_TYPE }), expect: proxied({ path: '/request?q2=v2&q1=v1' }) },
  { cite: at(RQT, 'add', 'does not change or append value to querystring on GET if querystring exists'), request: get('test1.test', '/request?q1=v2', { 'content-type': FORM_TYPE }), expect: proxied({ path: '/request?q1=v2' }) },
  { cite: at(RQT, 'append ', 'new header if header does not exists'), request: get('test6.test', '/request'), expect: proxied({ headers: { h2: 'v1' } }) },
  { cite: at(RQT, 'append ', 'values to existing headers'), request: get('test6.test', '/request'), expect: proxied({ headers: { h1: 'v1, v2' } }) },
  { cite: at(RQT, 'append ', 'new querystring if querystring does not exists'), request: inBody('test6.test', '/request', FORM_TYPE, { hello: 'world' }, {}, 'POST'), expect: proxied({ path: /[?&]q2=v1(&|$)/ }) },
  { cite: at(RQT, 'append ', 'values to existing querystring'), request: { method: 'POST', path: '/request', headers: { host: 'test6.test', 'content-type': FORM_TYPE } }, expect: proxied({ path: /[?&]q1=v1&q1=v2(&|$)/ }) },
  { cite: at(RQT, 'append ', 'new parameter in url encoded body on POST if it does not exist'), request: { method: 'POST', path: '/request', headers: { host: 'test6.test', 'content-type': FORM_TYPE } }, expect: proxied({ bodyHas: ['p1=v1&p1=v2', 'p2=value%3A1'] }) },
  { cite: at(RQT, 'append ', 'values to existing parameter in url encoded body if parameter already exist on POST'), request: inBody('test6.test', '/request', FORM_TYPE, { p1: 'v0' }, {}, 'POST'), expect: proxied({ bodyHas: ['p1=v0&p1=v1&p1=v2', 'p2=value%3A1'] }) },
];
/** A path whose query string holds every `name=value` given (encoded as Kong's encode_args writes them), in any order. */
const queryHas = (...pairs: string[]): RegExp => new RegExp(`^${pairs.map((p) => `(?=.*[?&]${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(&|$))`).join('')}`);
const ALL = 'remove, replace, add and append ';
const form3 = (path: string, headers: Record<string, string> = {}): PluginRequest => inBody('test3.test', path, FORM_TYPE, { hello: 'world' }, headers);
RQT_CASES.push(
  { cite: at(RQT, ALL, 'removes a header'), request: get('test3.test', '/request', { 'x-to-remove': 'true' }), expect: proxied({ headers: { 'x-to-remove': null } }) },
  { cite: at(RQT, ALL, 'replaces value of header, if header exist'), request: get('test3.test', '/request', { 'x-to-replace': 'true' }), expect: proxied({ headers: { 'x-to-replace': 'false' } }) },
  { cite: at(RQT, ALL, 'does not add new header if to be replaced header does not exist'), request: get('test3.test', '/request'), expect: proxied({ headers: { 'x-to-replace': null } }) },
  { cite: at(RQT, ALL, 'add new header if missing'), request: get('test3.test', '/request'), expect: proxied({ headers: { 'x-added2': 'b1' } }) },
  { cite: at(RQT, ALL, 'does not add new header if it already exist'), request: get('test3.test', '/request', { 'x-added3': 'c1' }), expect: proxied({ headers: { 'x-added3': 'c1' } }) },
  { cite: at(RQT, ALL, 'appends values to existing headers'), request: get('test3.test', '/request'), expect: proxied({ headers: { 'x-added': 'a1, a2, a3' } }) },
  { cite: at(RQT, ALL, 'adds new parameters on POST when query string key missing'), request: inBody('test3.test', '/request', FORM_TYPE, { hello: 'world' }, {}, 'POST'), expect: proxied({ path: queryHas('p2=b1') }) },
  { cite: at(RQT, ALL, 'removes parameters on GET'), request: form3('/request?toremovequery=yes&nottoremove=yes'), expect: proxied({ path: /^(?!.*toremovequery)(?=.*[?&]nottoremove=yes(&|$))/ }) },
  { cite: at(RQT, ALL, 'replaces parameters on GET'), request: form3('/request?toreplacequery=yes'), expect: proxied({ path: queryHas('toreplacequery=no') }) },
  { cite: at(RQT, ALL, 'does not add new parameter if to be replaced parameters does not exist on GET'), request: get('test3.test', '/request', { 'content-type': FORM_TYPE }), expect: proxied({ path: /^(?!.*toreplacequery)/ }) },
  { cite: at(RQT, ALL, 'adds parameters on GET if it does not exist'), request: get('test3.test', '/request', { 'content-type': FORM_TYPE }), expect: proxied({ path: queryHas('query-added=newvalue') }) },
  { cite: at(RQT, ALL, 'does not add new parameter if to be added parameters already exist on GET'), request: get('test3.test', '/request?query-added=oldvalue', { 'content-type': FORM_TYPE }), expect: proxied({ path: /^(?!.*newvalue)(?=.*[?&]query-added=oldvalue(&|$))/ }) },
  { cite: at(RQT, ALL, 'appends parameters on GET'), request: form3('/request?q1=20'), expect: proxied({ path: queryHas('p1=anything%3A1', 'p1=a2', 'q1=20') }) },
  { cite: at(RQT, ALL, 'removes a header -- ignore case'), request: get('test26.test', '/request', { 'x-to-remove': 'true' }), expect: proxied({ headers: { 'x-to-remove': null } }) },
  { cite: at(RQT, ALL, "replaces value of header, if header exist -- don't change header case"), request: get('test26.test', '/request', { 'x-to-replace': 'true' }), expect: proxied({ headers: { 'x-to-replace': 'false' } }) },
  { cite: at(RQT, ALL, 'add new header if missing -- keep configured case'), request: get('test26.test', '/request'), expect: proxied({ headers: { 'x-added2': 'b1' } }) },
  { cite: at(RQT, ALL, 'does not add new header if it already exist -- keep request case'), request: get('test26.test', '/request', { 'x-added3': 'c1' }), expect: proxied({ headers: { 'x-added3': 'c1' } }) },
  { cite: at(RQT, ALL, 'appends values to existing headers -- keep config case'), request: get('test26.test', '/request', { 'X-addeD': 'a0' }), expect: proxied({ headers: { 'x-added': 'a0, a2, a3' } }) },
  { cite: at(RQT, ALL, "appends values to added headers -- keep 'add' config case"), request: get('test26.test', '/request'), expect: proxied({ headers: { 'x-added': 'a1, a2, a3' } }) },
);
const TPL = 'request rewrite using template';
const users = '/requests/user1/foo/user2/bar';
RQT_CASES.push(
  { cite: at(RQT, TPL, 'template as querystring parameters on GET'), request: inBody('test10.test', `${users}?q1=20`, FORM_TYPE, { hello: 'world' }), expect: proxied({ path: `${users}?q1=20&uri_param1=foo&uri_param2%5Bsome_index%5D%5B1%5D=bar` }) },
  { cite: at(RQT, TPL, 'should update request path using hash'), request: get('test11.test', users), expect: proxied({ path: '/requests/user2/bar/user1/foo' }) },
  { cite: at(RQT, TPL, 'should not add querystring if hash missing'), request: get('test12.test', '/requests/?q1=20'), expect: proxied({ path: queryHas('q1=20', 'uri_param1=default1', 'uri_param2=default2') }) },
  { cite: at(RQT, TPL, 'should not fail when uri template rendered using index'), request: get('test14.test', '/user1/foo/user2/bar'), expect: proxied({ path: '/requests/user1/foo/user2/bar' }) },
  { cite: at(RQT, TPL, 'validate using headers/req_querystring for rendering templates'), request: get('test15.test', `${users}?q1=20`, { 'content-type': FORM_TYPE }), expect: proxied({ path: /^(?!.*[?&]q1=)(?=.*[?&]uri_param1=foo(&|$))(?=.*[?&]uri_param2=test15\.test(&|$))/, headers: { 'x-test-header': '20' } }) },
  { cite: at(RQT, TPL, 'validate that removed header can be used as template'), request: get('test16.test', `${users}?q2=20`, { 'x-remove-header': 'its a test', 'content-type': FORM_TYPE }), expect: proxied({ path: queryHas('q1=foo', 'q2=its+a+test'), headers: { 'x-remove-header': null, 'x-test-header': 'its a test' } }) },
  { cite: at(RQT, TPL, 'validate template will be rendered with old value of replaced header'), request: get('test17.test', `${users}?q2=20`, { 'x-replace-header': 'the old value', 'content-type': FORM_TYPE }), expect: proxied({ path: queryHas('q1=foo', 'q2=the+old+value'), headers: { 'x-test-header': 'the old value', 'x-replace-header': 'the new value' } }) },
  { cite: at(RQT, TPL, 'validate template can be escaped'), request: get('test18.test', `${users}?q2=20`, { 'x-replace-header': 'the old value', 'content-type': FORM_TYPE }), expect: proxied({ path: queryHas('q1=%24%28uri_captures.user1%29', 'q2=20') }) },
);
// access.lua: param_value renders with Penlight (`(expr or '')`), an error of the render is the
// handler's error (Kong's 500); a repeated argument is a Lua table, which does not concatenate.
const RQT_ACCESS = 'kong/plugins/request-transformer/access.lua';
RQT_CASES.push(
  { cite: `${RQT_ACCESS} param_value: a header read with underscores, a missing argument renders empty, the body reads the Host`, request: inBody('tpl-value.test', '/request', 'application/json', { a: 'b' }, { 'x-user-id': '42' }, 'POST'), expect: proxied({ headers: { 'x-q': '', 'x-user': 'id-42' }, bodyHas: ['"from":"tpl-value.test"', '"a":"b"'] }) },
  { cite: `${RQT_ACCESS} param_value: "or" gives the default when the header is missing; a replace without a value takes the header off`, request: get('tpl-value.test', '/request?q=7', { 'x-gone': 'here' }), expect: proxied({ headers: { 'x-q': '7', 'x-user': 'id-none', 'x-gone': null } }) },
  { cite: `${RQT_ACCESS} iter: a render error is the handler's error, Kong's 500`, request: get('tpl-value.test', '/request?q=1&q=2'), expect: { status: 500, json: { message: 'An unexpected error occurred' } } },
);
KONG_PLUGIN_CASES.push(...RQT_CASES);

// response-transformer: headers in Envoy, the response JSON through the transform companion.
const RST = 'spec/03-plugins/15-response-transformer/04-filter_spec.lua';
KONG_PLUGIN_CASES.push(
  { cite: at(RST, 'parameters', 'remove a parameter'), request: get('response.com', '/get'), expect: { status: 200, upstream: {}, bodyHas: ['"method":"GET"'], bodyLacks: ['"path"'] } },
  { cite: at(RST, 'parameters', 'remove a header'), request: get('response.com', '/response-headers?access-control-allow-origin=*'), expect: { status: 200, upstream: {}, headers: { 'access-control-allow-origin': null } } },
  { cite: at(RST, 'parameters', 'replace a body parameter on GET'), request: get('response2.com', '/get'), expect: { status: 200, upstream: {}, bodyHas: ['"headers":"/hello/world"', '"method":"this is a / test"', '"path":"\\"wot\\""'] } },
  { cite: at(RST, 'regressions', 'does not throw an error when request was short-circuited in access phase'), request: get('response3.com', '/get'), expect: { status: 401 } },
);
KONG_PLUGIN_CASES.push(...CORS_CASES, ...IPR_CASES, ...BOT_CASES, ...RSL_CASES, ...CID_CASES, ...BA_CASES, ...RD_CASES);
