// pre-function and post-function without Envoy: code that cannot run is refused where the file
// asks for it (file, line:col, the YAML path of the chunk, and where in the chunk), and the four
// Lua filters stand where Kong's priorities put the two plugins' phases.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TYPE } from '../../src/resources/type-urls.js';
import { compileConfig } from '../../src/runtime/compile.js';

const yamlWith = (plugins: string) => `_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: k }]
services:
  - name: s
    url: http://127.0.0.1:9001
    routes:
      - name: r
        paths: [/r]
        plugins:
${plugins}`;

const errorsOf = (plugins: string) => compileConfig([{ file: 'kong.yml', text: yamlWith(plugins) }]).diagnostics.filter((d) => d.severity === 'error');

describe('pre-function and post-function code that cannot run is refused at load', () => {
  test('ngx is nginx\'s: refused by name, at the chunk, with where in it', () => {
    const ds = errorsOf(`          - name: pre-function
            config:
              access:
                - kong.log.info("ok")
                - "local x = 1\\nngx.say(x)"
`);
    assert.equal(ds.length, 1);
    assert.equal(ds[0]!.path.join('.'), 'services.0.routes.0.plugins.0.config.access.1');
    assert.deepEqual([ds[0]!.file, ds[0]!.line], ['kong.yml', 16]);
    assert.match(ds[0]!.message, /ngx\.say \(line 2, column 1 of the code\) is not served by Frontdesk; Envoy runs the code, not nginx/);
  });

  test('a syntax error says where in the chunk', () => {
    const [d] = errorsOf(`          - name: post-function
            config:
              header_filter: ["local x = = 1"]
`);
    assert.match(d!.message, /the Lua does not parse: <expression> expected near '=' \(line 1, column 11 of the code\)/);
    assert.equal(d!.path.join('.'), 'services.0.routes.0.plugins.0.config.header_filter.0');
  });

  test('a PDK function in the wrong phase, and one Envoy cannot give, are refused', () => {
    const wrongPhase = errorsOf(`          - name: pre-function
            config:
              access: ['kong.response.set_header("a", "b")']
`);
    assert.match(wrongPhase[0]!.message, /kong\.response\.set_header \(line 1, column 1 of the code\) cannot be called in access; it is served in header_filter/);
    const unknown = errorsOf(`          - name: pre-function
            config:
              access: ['local c = kong.client.load_consumer("x")']
`);
    assert.match(unknown[0]!.message, /kong\.client\.load_consumer \(line 1, column 11 of the code\) is not served by Frontdesk/);
  });

  test('the phases Envoy cannot run are refused; empty, they load', () => {
    const ds = errorsOf(`          - name: pre-function
            config:
              log: ['kong.log.info("done")']
              certificate: []
`);
    assert.equal(ds.length, 1);
    assert.equal(ds[0]!.path.join('.'), 'services.0.routes.0.plugins.0.config.log');
    assert.match(ds[0]!.message, /the log phase is not served by Frontdesk/);
  });

  test('a PDK table held in a local, kong.ctx.shared and plain Lua load', () => {
    assert.deepEqual(errorsOf(`          - name: pre-function
            config:
              access:
                - "local req = kong.request\\nlocal n = tonumber(req.get_header('x-n') or '0')\\nkong.ctx.shared.n = string.format('%d', n + 1)"
`), []);
  });
});

describe('where the filters stand', () => {
  test('pre-function first on the request and on the response, post-function last on both, key-auth between', () => {
    const r = compileConfig([{ file: 'kong.yml', text: yamlWith(`          - { name: key-auth }
          - { name: pre-function, config: { access: ['kong.log.info(1)'], header_filter: ['kong.log.info(2)'] } }
          - { name: post-function, config: { access: ['kong.log.info(3)'], header_filter: ['kong.log.info(4)'] } }
`) }]);
    assert.ok(r.ok, JSON.stringify(r.diagnostics));
    const listener = [...r.translation!.fleets.get('')!.get(TYPE.listener)!.values()][0] as { filter_chains: { filters: { typed_config: { http_filters: { name: string }[] } }[] }[] };
    const names = listener.filter_chains[0]!.filters[0]!.typed_config.http_filters.map((f) => f.name);
    const at = (n: string) => names.indexOf(n);
    // Envoy runs decoders in chain order and encoders in reverse: the request side of a plugin
    // stands where the request meets it, its response side where the response meets it.
    assert.ok(at('frontdesk.post_function.response') >= 0 && at('frontdesk.post_function.response') < at('frontdesk.pre_function.request'), names.join(' '));
    assert.ok(at('frontdesk.pre_function.request') < at('envoy.filters.http.api_key_auth'), names.join(' '));
    assert.ok(at('envoy.filters.http.api_key_auth') < at('frontdesk.post_function.request'), names.join(' '));
    assert.ok(at('frontdesk.post_function.request') < at('frontdesk.pre_function.response'), names.join(' '));
    assert.equal(names.at(-1), 'envoy.filters.http.router');
  });
});
