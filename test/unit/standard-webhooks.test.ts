// Kong's standard-webhooks: its config as Kong's schema spec loads it, what a config compiles
// to (the transform companion's RouteTransform and Envoy's ext_proc override), and the
// companion's answers for Kong's integration-spec cases. Every signature is computed here
// with node:crypto from the Standard Webhooks scheme: base64(HMAC-SHA256(secret, id.ts.body)).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { TRANSFORM_TYPE_URL, type RouteTransform__Output } from '../../src/contracts/transform.js';
import { toApiEntity } from '../../src/admin/kong-entities.js';
import { TYPE } from '../../src/resources/type-urls.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { processStream, type StreamState } from '../../src/transform/server.js';
import { routePluginFile } from '../support/plugin-files.js';
import { routeConfigOf } from '../support/route-configs.js';

// Kong's integration spec uses these: the secret's own bytes are the HMAC key.
const SECRET = 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const MESSAGE_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const NOW_MS = 1_767_225_600_000;
const NOW_S = NOW_MS / 1000;
const BODY = '{"foo":"bar"}';

const sign = (ts: number | string, body = BODY, secret = SECRET) => `v1,${createHmac('sha256', secret).update(`${MESSAGE_ID}.${ts}.${body}`).digest('base64')}`;

const transform = (tolerance = 300): RouteTransform__Output => ({ standard_webhooks: { secret_v1: SECRET, tolerance_second: tolerance } } as RouteTransform__Output);

type Answer = Record<string, unknown> & { immediate_response?: { status: { code: number }; body: Buffer } };

/** One request through the companion's stream: its headers, then (unless it has none) its body; the answer that ended it. */
function ask(t: RouteTransform__Output, headers: Record<string, string>, body?: string, nowMs = NOW_MS): Answer {
  const state: StreamState = {};
  const hs = [[':method', 'POST'], [':path', '/hooks'], ['content-type', 'application/json'], ...Object.entries(headers)].map(([key, value]) => ({ key: key!, raw_value: Buffer.from(value!) }));
  const first = processStream(t, { request_headers: { headers: { headers: hs }, end_of_stream: body === undefined } }, state, nowMs) as Answer;
  if (first.immediate_response || body === undefined) return first;
  return processStream(t, { request_body: { body: Buffer.from(body), end_of_stream: true } }, state, nowMs) as Answer;
}

const refused = (a: Answer) => {
  assert.ok(a.immediate_response, `refused: ${JSON.stringify(a)}`);
  assert.equal(a.immediate_response.status.code, 400);
  assert.deepEqual(JSON.parse(a.immediate_response.body.toString()), { message: 'Bad request' });
};
const passed = (a: Answer) => assert.equal(a.immediate_response, undefined, JSON.stringify(a));

describe('standard-webhooks: the config', () => {
  const load = (config: string) => compileConfig([{ file: 'gateway.yaml', text: routePluginFile('standard-webhooks', config) }]);

  it('loads with Kong\'s default tolerance of 300 seconds', () => {
    const r = load(`secret_v1: ${SECRET}`);
    assert.ok(r.ok, JSON.stringify(r.diagnostics));
    const sent = [...r.translation!.companions.get(TRANSFORM_TYPE_URL)!.values()];
    assert.equal(sent.length, 1);
    assert.deepEqual((sent[0] as { standard_webhooks: unknown }).standard_webhooks, { secret_v1: SECRET, tolerance_second: 300 });
  });

  it('refuses what Kong\'s schema refuses, at the field', () => {
    const missing = load('tolerance_second: 300');
    assert.equal(missing.ok, false);
    assert.match(missing.diagnostics.map((d) => `${d.path?.join('.')} ${d.message}`).join('\n'), /secret_v1/);
    for (const bad of ['tolerance_second: -1', 'tolerance_second: 5.67']) {
      const r = load(`secret_v1: s\n${bad}`);
      assert.equal(r.ok, false, bad);
      const d = r.diagnostics.find((x) => x.severity === 'error')!;
      assert.equal(d.line, 15, `${bad}: the line of the field`);
      assert.match(String(d.path?.join('.')), /tolerance_second/);
    }
    assert.ok(load(`secret_v1: s\ntolerance_second: 0`).ok, 'zero is allowed (greater than -1)');
  });

  it('has Envoy buffer the body for the companion, and keeps the secret out of Envoy\'s resources', () => {
    const r = load(`secret_v1: ${SECRET}`);
    const fleet = r.translation!.fleets.get('')!;
    const rc = routeConfigOf(fleet.get(TYPE.route) as Map<string, { virtual_hosts: { routes: { name: string; typed_per_filter_config?: Record<string, { overrides?: { processing_mode?: Record<string, string> } }> }[] }[] }>)!;
    const route = rc.virtual_hosts.flatMap((vh) => vh.routes).find((x) => x.typed_per_filter_config?.['envoy.filters.http.ext_proc'])!;
    assert.ok(route, 'the route turns ext_proc on');
    const mode = route.typed_per_filter_config!['envoy.filters.http.ext_proc']!.overrides!.processing_mode!;
    assert.equal(mode.request_header_mode, 'SEND');
    assert.equal(mode.request_body_mode, 'BUFFERED');
    for (const [type, m] of fleet) assert.ok(!JSON.stringify([...m.values()]).includes(SECRET), `${type} holds no secret`);
  });
});

describe('standard-webhooks: the companion\'s answers (Kong\'s integration spec)', () => {
  const ts = Math.floor(NOW_S);
  const headers = (over: Record<string, string> = {}) => ({ 'webhook-id': MESSAGE_ID, 'webhook-timestamp': String(ts), 'webhook-signature': sign(ts), ...over });

  it('accepts the correct signature', () => passed(ask(transform(), headers(), BODY)));

  it('rejects a request missing one of the three headers', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const h: Record<string, string> = headers();
      delete h[name];
      refused(ask(transform(), h, BODY));
    }
  });

  it('rejects a timestamp that is no number', () => refused(ask(transform(), headers({ 'webhook-timestamp': 'XYZ', 'webhook-signature': sign('XYZ') }), BODY)));

  it('rejects a request without a body', () => refused(ask(transform(), headers())));

  it('rejects an empty body', () => refused(ask(transform(), headers({ 'webhook-signature': sign(ts, '') }), '')));

  it('rejects a timestamp older than the tolerance, and accepts one from the future (Kong checks age only)', () => {
    const old = ts - 6 * 60;
    refused(ask(transform(), headers({ 'webhook-timestamp': String(old), 'webhook-signature': sign(old) }), BODY));
    passed(ask(transform(400), headers({ 'webhook-timestamp': String(old), 'webhook-signature': sign(old) }), BODY));
    const ahead = ts + 3600;
    passed(ask(transform(), headers({ 'webhook-timestamp': String(ahead), 'webhook-signature': sign(ahead) }), BODY));
  });

  it('rejects a body changed after signing, a signature made with another secret, and one without its v1 prefix', () => {
    refused(ask(transform(), headers(), '{"foo":"baz"}'));
    refused(ask(transform(), headers({ 'webhook-signature': sign(ts, BODY, 'other') }), BODY));
    refused(ask(transform(), headers({ 'webhook-signature': sign(ts).slice(3) }), BODY));
  });

  it('accepts a list of signatures when one matches (the specification\'s rotation form)', () => {
    passed(ask(transform(), headers({ 'webhook-signature': `${sign(ts, BODY, 'old-secret')} ${sign(ts)}` }), BODY));
    refused(ask(transform(), headers({ 'webhook-signature': `${sign(ts, BODY, 'old-secret')} v1,AAAA` }), BODY));
  });

  it('checks the signature before the body\'s own operations run', () => {
    const t = { ...transform(), request_body: { remove: ['foo'], rename: [], replace: [], add: [], append: [], replace_types: [], add_types: [], append_types: [] } } as RouteTransform__Output;
    const a = ask(t, headers(), BODY) as { request_body?: { response?: { body_mutation?: { body?: Buffer } } } };
    assert.equal(Buffer.from(a.request_body!.response!.body_mutation!.body!).toString(), '{}', 'the verified body is then transformed');
    refused(ask(t, headers(), '{"foo":"x"}'));
  });
});

describe('standard-webhooks: the secret on the Admin API', () => {
  it('is withheld from a reader that may not write, as credentials are, and shown to one that may', () => {
    const plugin = { id: 'p1', name: 'standard-webhooks', config: { secret_v1: SECRET, tolerance_second: 300 } };
    assert.deepEqual(toApiEntity('plugins', plugin, 0).config, { tolerance_second: 300 });
    assert.deepEqual(toApiEntity('plugins', plugin, 0, true).config, { secret_v1: SECRET, tolerance_second: 300 });
    assert.equal(plugin.config.secret_v1, SECRET, 'the entity itself is unchanged');
    const limits = { id: 'p2', name: 'rate-limiting', config: { minute: 5, policy: 'redis', redis: { host: 'redis', password: 'redis-pass' } } };
    assert.deepEqual(toApiEntity('plugins', limits, 0).config, { minute: 5, policy: 'redis', redis: { host: 'redis' } });
    const loggly = { id: 'p3', name: 'loggly', config: { key: 'customer-token', tags: ['kong'] } };
    assert.deepEqual(toApiEntity('plugins', loggly, 0).config, { tags: ['kong'] }, 'loggly\'s token alike');
  });
});
