// Kong's plugin access specs as data: what a client sees (status, body, response headers) and
// what reaches the upstream, for the cases of Kong's own specs
// (spec/03-plugins/<nn>-<plugin>/02-access_spec.lua in Kong/kong, 3.x) whose config the gateway
// serves. `cite` names the spec file, its `describe` and `it`. Every route is told apart by its
// host, as in Kong's specs; `$UPSTREAM` is the echo upstream's URL. Where Kong changed an answer
// after the spec version cited (key-auth since Kong 3.8, Kong/kong#11794: an invalid key is
// 401 {"message":"Unauthorized"}, every 401 carries WWW-Authenticate, `Key` without a realm),
// the case expects Kong 3.9's answer and says so.

export interface PluginRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
}

export interface PluginExpect {
  status: number;
  /** The JSON body, compared whole. */
  json?: unknown;
  /** The body, compared as text. */
  body?: string;
  /** Response headers; null: absent. */
  headers?: Record<string, string | null>;
  /** What the upstream received (the request reached it): its path and headers (null: absent; '*': present). */
  upstream?: { path?: string; headers?: Record<string, string | null> };
}

export interface PluginCase {
  cite: string;
  request: PluginRequest;
  expect: PluginExpect;
}

const RT = 'spec/03-plugins/14-request-termination/02-access_spec.lua';
const KA = 'spec/03-plugins/09-key-auth/02-access_spec.lua';
const at = (spec: string, describe: string, it: string) => `${spec} describe("${describe}") it("${it}")`;

/** The anonymous consumer's id (Kong's `anonymous` names a consumer by id). */
const ANONYMOUS_ID = '4f0c1a5e-7e0e-4a52-9c43-0b8f0f7a2a11';

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
    ],
  }],
  routes: [
    // Kong's route7 has no service ("default status code and message with serviceless route").
    { name: 'api7', hosts: ['api7.request-termination.com'], plugins: [{ name: 'request-termination' }] },
  ],
  consumers: [
    { username: 'no-body', id: ANONYMOUS_ID },
    { username: 'bob', keyauth_credentials: [{ key: 'kong' }] },
  ],
};

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
  { cite: at(RT, 'status code and body', 'default status code and body'), request: rt('4'), expect: { status: 503, body: '<html><body><h1>Service is down for maintenance</h1></body></html>' } },
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
];
