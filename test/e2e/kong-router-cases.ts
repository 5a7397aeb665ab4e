// Kong's router cases as data, taken from Kong's own integration spec
// spec/02-integration/05-proxy/02-router_spec.lua (Kong/kong, 3.x). Each group is one
// `describe` of that spec: its routes as the spec declares them (Kong's insert_routes gives every
// route a service of its own on the mock upstream, protocols http unless said), and its requests
// with what a client observes: which route's service answered, the path and headers the upstream
// received, or the status and message the gateway answered itself. `cite` names the spec's
// `describe` and `it` (the spec runs every case under three router flavors, with and without
// buffering; these follow Kong 3.x's default flavor, traditional_compatible).
//
// Kong's mock upstream answers /status/<n> with <n> and unknown paths with 404; an echo upstream
// answers every path, so where Kong asserts such a status the case asserts the route and the
// upstream path that produce it.

export interface KongService {
  /** The service's path (its url's path). */
  path?: string;
  enabled?: boolean;
}

export interface KongRoute {
  name: string;
  hosts?: string[];
  paths?: string[];
  methods?: string[];
  headers?: Record<string, string[]>;
  strip_path?: boolean;
  preserve_host?: boolean;
  regex_priority?: number;
  protocols?: string[];
  /** null: a route without a service (Kong answers 503). */
  service?: KongService | null;
}

export interface KongRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** Sent as-is over a raw TCP connection instead (requests a client library cannot make, e.g. no Host). */
  raw?: string;
}

export interface KongExpect {
  /** The route whose service answered (its upstream received the request). */
  route?: string;
  /** The path and query string the upstream received. */
  path?: string;
  /** Headers the upstream received; the value '$upstream' stands for the service's host:port. */
  upstreamHeaders?: Record<string, string>;
  /** The status the gateway answered itself (no upstream reached). */
  status?: number;
  /** The `message` of the gateway's JSON answer. */
  message?: string;
}

export interface KongCase {
  cite: string;
  request: KongRequest;
  expect: KongExpect;
}

export interface KongGroup {
  /** The spec's describe block. */
  name: string;
  routes: KongRoute[];
  cases: KongCase[];
}

const SPEC = 'spec/02-integration/05-proxy/02-router_spec.lua';
const at = (describe: string, it: string) => `${SPEC} describe("${describe}") it("${it}")`;

export const KONG_ROUTER_GROUPS: KongGroup[] = [
  {
    name: 'no routes match',
    routes: [],
    cases: [
      { cite: at('no routes match', 'responds 404 if no route matches'), request: { path: '/', headers: { host: 'inexistent.com' } }, expect: { status: 404, message: 'no Route matched with those values' } },
    ],
  },
  {
    name: 'use-cases',
    routes: [
      { name: 'get-only', methods: ['GET'], strip_path: false },
      { name: 'post-put', methods: ['POST', 'PUT'], paths: ['/post', '/put'], strip_path: false },
      { name: 'mock-upstream', paths: ['/mock_upstream'], strip_path: true, service: { path: '/status' } },
      { name: 'private', paths: ['/private'], strip_path: false, service: { path: '/basic-auth/' } },
      { name: 'users-profile', paths: ['~/users/\\d+/profile'], strip_path: true, service: { path: '/anything' } },
      { name: 'serviceless', protocols: ['http', 'https'], hosts: ['serviceless-route-http.test'], service: null },
      { name: 'disabled-1', paths: ['/disabled-service1'], strip_path: false, service: { path: '/disabled-service-path/', enabled: false } },
      { name: 'enabled-regex', paths: ['~/enabled-service/\\w+'], strip_path: true, service: { path: '/anything/', enabled: true } },
      { name: 'disabled-2', paths: ['/enabled-service/disabled'], strip_path: true, service: { path: '/some-path/', enabled: false } },
    ],
    cases: [
      { cite: at('use-cases', 'responds 503 if no service found'), request: { path: '/', headers: { host: 'serviceless-route-http.test' } }, expect: { status: 503, message: 'no Service found with those values' } },
      { cite: at('use-cases', 'restricts an route to its methods if specified'), request: { method: 'POST', path: '/post' }, expect: { route: 'post-put', path: '/post' } },
      { cite: at('use-cases', 'restricts an route to its methods if specified'), request: { method: 'DELETE', path: '/post' }, expect: { status: 404, message: 'no Route matched with those values' } },
      { cite: at('use-cases', 'routes by method-only if no other match is found'), request: { path: '/get' }, expect: { route: 'get-only', path: '/get' } },
      { cite: at('requests without Host header', 'HTTP/1.1 is rejected by NGINX'), request: { path: '/get', raw: 'GET /get HTTP/1.1\r\n\r\n' }, expect: { status: 400 } },
      { cite: at('route with a path component in its upstream_url', 'with strip_path = true'), request: { path: '/mock_upstream/201' }, expect: { route: 'mock-upstream', path: '/status/201' } },
      { cite: at('use-cases', 'route with a path component in its upstream_url and strip_path = false'), request: { path: '/private/passwd' }, expect: { route: 'private', path: '/basic-auth/private/passwd' } },
      // Kong's 404 here is the mock upstream's: the GET-only route takes the request.
      { cite: at('use-cases', 'route with a path component in its upstream_url and [uri] with a regex'), request: { path: '/users/foo/profile' }, expect: { route: 'get-only', path: '/users/foo/profile' } },
      { cite: at('use-cases', 'route with a path component in its upstream_url and [uri] with a regex'), request: { path: '/users/123/profile' }, expect: { route: 'users-profile', path: '/anything' } },
      // The route of a disabled service is left out; Kong's 404 is the mock upstream's, through the GET-only route.
      { cite: at('handles not enabled services', 'ignores route where service enabled=false'), request: { path: '/disabled-service1' }, expect: { route: 'get-only', path: '/disabled-service1' } },
      { cite: at('handles not enabled services', 'routes to regex path when longer path service enabled=false'), request: { path: '/enabled-service/disabled' }, expect: { route: 'enabled-regex', path: '/anything' } },
    ],
  },
  {
    name: 'URI regexes order of evaluation with regex_priority',
    routes: [
      { name: 'regex_1', strip_path: true, paths: ['~/status/(?P<foo>re)'], service: { path: '/status/200' }, regex_priority: 0 },
      { name: 'regex_2', strip_path: true, paths: ['~/status/(re)'], service: { path: '/status/200' }, regex_priority: 4 },
      { name: 'regex_3', strip_path: true, paths: ['~/status/(ab)'], service: { path: '/status/200' }, regex_priority: 0 },
      { name: 'regex_4', strip_path: true, paths: ['~/status/(ab)c?'], service: { path: '/status/200' }, regex_priority: 0 },
    ],
    cases: [
      { cite: at('URI regexes order of evaluation with regex_priority', 'depends on the regex_priority field'), request: { path: '/status/re' }, expect: { route: 'regex_2', path: '/status/200' } },
    ],
  },
  {
    name: 'URI arguments (querystring)',
    routes: [{ name: 'mock', hosts: ['mock_upstream'] }],
    cases: [
      { cite: at('URI arguments (querystring)', 'preserves URI arguments'), request: { path: '/get?foo=bar&hello=world', headers: { host: 'mock_upstream' } }, expect: { route: 'mock', path: '/get?foo=bar&hello=world' } },
      { cite: at('URI arguments (querystring)', 'does proxy an empty querystring if URI does not contain arguments'), request: { path: '/request?', headers: { host: 'mock_upstream' } }, expect: { route: 'mock', path: '/request?' } },
      { cite: at('URI arguments (querystring)', 'does proxy a querystring with an empty value'), request: { path: '/get?hello', headers: { host: 'mock_upstream' } }, expect: { route: 'mock', path: '/get?hello' } },
    ],
  },
  {
    name: 'URI normalization',
    routes: [
      { name: 'foo-bar', strip_path: true, paths: ['/foo/bar'] },
      { name: 'hello', strip_path: true, paths: ['/hello'] },
      { name: 'anything-world', strip_path: false, paths: ['/anything/world'] },
    ],
    cases: [
      { cite: at('URI normalization', 'matches against normalized URI with ".."'), request: { path: '/foo/a/../bar' }, expect: { route: 'foo-bar' } },
      { cite: at('URI normalization', 'matches against normalized URI with "//"'), request: { path: '/foo//bar' }, expect: { route: 'foo-bar' } },
      { cite: at('URI normalization', 'matches against normalized URI with "/./"'), request: { path: '/foo/./bar' }, expect: { route: 'foo-bar' } },
      { cite: at('URI normalization', 'matches against normalized URI with percent-encoded characters'), request: { path: '/h%65llo' }, expect: { route: 'hello' } },
      { cite: at('URI normalization', 'proxies normalized URI to upstream with strip_path = true'), request: { path: '/h%65llo/anything/a/../b' }, expect: { route: 'hello', path: '/anything/b' } },
      { cite: at('URI normalization', 'proxies normalized URI to upstream with strip_path = false'), request: { path: '/anything/./a/../wor%6cd/a/../b' }, expect: { route: 'anything-world', path: '/anything/world/b' } },
      { cite: at('URI normalization', 're-encode special characters in request uri when proxying to the upstream'), request: { path: '/anything/world/cat%20and%20dog' }, expect: { route: 'anything-world', path: '/anything/world/cat%20and%20dog' } },
    ],
  },
  {
    name: 'strip_path',
    routes: [{ name: 'xyz', paths: ['/x/y/z', '/z/y/x'], strip_path: true }],
    cases: [
      { cite: at('strip_path', 'strips subsequent calls to an route with different [paths]'), request: { path: '/x/y/z/get' }, expect: { route: 'xyz', path: '/get' } },
      { cite: at('strip_path', 'strips subsequent calls to an route with different [paths]'), request: { path: '/z/y/x/get' }, expect: { route: 'xyz', path: '/get' } },
      { cite: at('strip_path', 'strips subsequent calls to an route with different [paths]'), request: { path: '/x/y/z/get' }, expect: { route: 'xyz', path: '/get' } },
    ],
  },
  {
    name: 'preserve_host',
    routes: [
      { name: 'preserved', preserve_host: true, hosts: ['preserved.com', 'preserved.com:123'], service: { path: '/request' } },
      { name: 'discarded', preserve_host: false, hosts: ['discarded.com'], service: { path: '/request' } },
      { name: 'request', strip_path: false, preserve_host: true, paths: ['/request'] },
    ],
    cases: [
      { cite: at('x = false (default)', 'uses hostname from upstream_url / uses port value from upstream_url if not default'), request: { path: '/get', headers: { host: 'discarded.com' } }, expect: { route: 'discarded', path: '/request/get', upstreamHeaders: { host: '$upstream' } } },
      { cite: at('preserve_host = true', 'forwards request Host'), request: { path: '/', headers: { host: 'preserved.com' } }, expect: { route: 'preserved', path: '/request', upstreamHeaders: { host: 'preserved.com' } } },
      { cite: at('preserve_host = true', "forwards request Host:Port if port isn't default"), request: { path: '/get', headers: { host: 'preserved.com:123' } }, expect: { route: 'preserved', path: '/request/get', upstreamHeaders: { host: 'preserved.com:123' } } },
      { cite: at('preserve_host = true', 'forwards request Host even if not matched by [hosts]'), request: { path: '/get', headers: { host: 'preserved.com' } }, expect: { route: 'preserved', path: '/request/get', upstreamHeaders: { host: 'preserved.com' } } },
    ],
  },
  {
    name: 'edge-cases',
    routes: [
      { name: 'root', strip_path: true, paths: ['/'] },
      { name: 'foobar', strip_path: true, paths: ['/foobar'] },
    ],
    cases: [
      { cite: at('edge-cases', 'root / [uri] for a catch-all rule'), request: { path: '/get' }, expect: { route: 'root', path: '/get' } },
      { cite: at('edge-cases', 'root / [uri] for a catch-all rule'), request: { path: '/foobar/get' }, expect: { route: 'foobar', path: '/get' } },
    ],
  },
  {
    name: '[headers] matches by header',
    routes: [
      { name: 'v1-v2', headers: { version: ['v1', 'v2'] } },
      { name: 'v3', headers: { version: ['v3'] } },
    ],
    cases: [
      { cite: at('[#headers]', 'matches by header'), request: { path: '/', headers: { host: 'domain.test', version: 'v1' } }, expect: { route: 'v1-v2', path: '/' } },
      { cite: at('[#headers]', 'matches by header'), request: { path: '/', headers: { host: 'domain.test', version: 'v3' } }, expect: { route: 'v3', path: '/' } },
    ],
  },
  {
    name: '[headers] case-insensitive',
    routes: [
      { name: 'Version-v1-v2', headers: { Version: ['v1', 'v2'] } },
      { name: 'version-V3', headers: { version: ['V3'] } },
    ],
    cases: [
      { cite: at('[#headers]', 'matches headers in a case-insensitive way'), request: { path: '/', headers: { host: 'domain.test', version: 'v1' } }, expect: { route: 'Version-v1-v2' } },
      { cite: at('[#headers]', 'matches headers in a case-insensitive way'), request: { path: '/', headers: { host: 'domain.test', Version: 'v3' } }, expect: { route: 'version-V3' } },
    ],
  },
  {
    name: '[headers] more headers first',
    routes: [
      { name: 'v1-v2', headers: { version: ['v1', 'v2'] } },
      { name: 'v3-us-east', headers: { version: ['v3'], location: ['us-east'] } },
      { name: 'v3', headers: { version: ['v3'] } },
    ],
    cases: [
      { cite: at('[#headers]', 'prioritizes Routes with more headers'), request: { path: '/', headers: { host: 'domain.test', version: 'v3', location: 'us-east' } }, expect: { route: 'v3-us-east' } },
      { cite: at('[#headers]', 'prioritizes Routes with more headers'), request: { path: '/', headers: { host: 'domain.test', version: 'v3' } }, expect: { route: 'v3' } },
    ],
  },
  {
    name: '[headers] caching does not ignore headers',
    routes: [
      { name: 'first', hosts: ['example.test'], paths: ['/test'], headers: { headertest: ['itsatest'] } },
      { name: 'second', hosts: ['example.test'], paths: ['/test'] },
    ],
    cases: [
      { cite: at('[#headers]', 'caching do not ignore headers (regression)'), request: { path: '/test', headers: { host: 'example.test', headertest: 'itsatest' } }, expect: { route: 'first' } },
      { cite: at('[#headers]', 'caching do not ignore headers (regression)'), request: { path: '/test', headers: { host: 'example.test' } }, expect: { route: 'second' } },
      { cite: at('[#headers]', 'caching do not ignore headers (regression)'), request: { path: '/test', headers: { host: 'example.test', headertest: 'itsatest' } }, expect: { route: 'first' } },
    ],
  },
  {
    name: '[paths] + [headers]',
    routes: [
      { name: 'root', strip_path: true, headers: { version: ['v1', 'v2'] }, paths: ['/root'] },
      { name: 'root-fixture', strip_path: true, headers: { version: ['v1', 'v2'] }, paths: ['/root/fixture'] },
      { name: 'root-us-east', strip_path: true, headers: { version: ['v1', 'v2'], location: ['us-east'] }, paths: ['/root'] },
    ],
    cases: [
      // Kong's 404 is the mock upstream's for /fixture/get.
      { cite: at('[paths] + [#headers]', 'prioritizes Routes with more headers'), request: { path: '/root/fixture/get', headers: { version: 'v2', location: 'us-east' } }, expect: { route: 'root-us-east', path: '/fixture/get' } },
      { cite: at('[paths] + [#headers]', 'prioritizes longer paths if same number of headers'), request: { path: '/root/fixture/get', headers: { version: 'v2' } }, expect: { route: 'root-fixture', path: '/get' } },
    ],
  },
  {
    name: '[paths] + [methods]',
    routes: [
      { name: 'r1', strip_path: true, methods: ['GET'], paths: ['/unrelated/longer/uri/that/should/not/match', '/root/fixture'], hosts: ['ahost.test'], service: { path: '/status/201' } },
      { name: 'r2', strip_path: true, methods: ['GET'], paths: ['/root/fixture/get'], hosts: ['ahost.test'], service: { path: '/status/202' } },
      { name: 'r3', strip_path: true, methods: ['GET'], paths: ['/root/fixture/get'], hosts: ['anotherhost.test'], service: { path: '/status/203' } },
      { name: 'r4', strip_path: true, methods: ['GET'], paths: ['/root/fixture/get'], hosts: ['onemorehost.test'], service: { path: '/status/204' } },
      { name: 'public-apiv1', strip_path: true, paths: ['/rest/devportal/api/v1', '/rest/devportal'], hosts: ['api.local'], service: { path: '/status/205' } },
      { name: 'aux', strip_path: true, paths: ['/rest/devportal/aux'], hosts: ['api.local'], service: { path: '/status/206' } },
      { name: 'aux-host', strip_path: true, paths: ['/rest/devportal/aux'], hosts: ['test-api.local'], service: { path: '/status/207' } },
      { name: 'aux-host2', strip_path: true, paths: ['/rest/devportal/aux'], hosts: ['atest-api.local'], service: { path: '/status/208' } },
      { name: 'devportal-route-2', strip_path: true, paths: ['/rest/devportal'], hosts: ['atest-api.local'], service: { path: '/status/209' } },
    ],
    cases: [
      { cite: at('[paths] + [methods]', 'prioritizes host over longer URIs'), request: { path: '/root/fixture/get', headers: { host: 'anotherhost.test' } }, expect: { route: 'r3', path: '/status/203' } },
      { cite: at('[paths] + [methods]', 'do not match incomplete URIs'), request: { path: '/', headers: { host: 'ahost.test' } }, expect: { status: 404, message: 'no Route matched with those values' } },
    ],
  },
];

/**
 * What Kong's spec expects and the gateway does otherwise: left out of the run (the rest of
 * each case, e.g. which route matched, stays in its group), each with the reason; named in
 * docs/configuration.md's "Differences from Kong".
 */
export const KNOWN_DIFFERENCES: Array<KongCase & { group: string; reason: string }> = [
  ...([
    ['matches against normalized URI with ".."', '/foo/a/../bar'],
    ['matches against normalized URI with "//"', '/foo//bar'],
    ['matches against normalized URI with "/./"', '/foo/./bar'],
    ['matches against normalized URI with percent-encoded characters', '/h%65llo'],
  ] as const).map(([it, path]) => ({
    group: 'URI normalization',
    cite: at('URI normalization', it),
    request: { path },
    expect: { route: path.startsWith('/h') ? 'hello' : 'foo-bar', upstreamHeaders: { 'x-forwarded-path': path } },
    reason: "X-Forwarded-Path carries the normalized path (Kong: the request's path as received, kong/runloop/handler.lua " +
      'ctx.request_uri without the query): Envoy normalizes :path before any filter runs and keeps no copy of the original.',
  })),
  {
    group: 'use-cases',
    cite: at('requests without Host header', 'HTTP/1.0 routes normally'),
    request: { path: '/get', raw: 'GET /get HTTP/1.0\r\n\r\n' },
    expect: { route: 'get-only', path: '/get' },
    reason: 'HTTP/1.0 is answered 426 Upgrade Required (Envoy\'s default; nginx serves HTTP/1.0). Accepting it needs ' +
      'accept_http_10 and a default host for requests without Host on every listener.',
  },
];
