// Kong's statsd lines (kong/plugins/statsd/log.lua and statsd_logger.lua), from one log entry:
// names, types, sample rates, the scope without a service, the host name in the prefix, and
// lines combined into datagrams. Expected lines are written from Kong's code, by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StreamLogSink__Output } from '../../src/contracts/log.js';
import { datadogLines, statsdLines, statsdPackets } from '../../src/log/stream-sinks.js';

const sink = (over: Partial<StreamLogSink__Output> = {}): StreamLogSink__Output => ({
  name: 'statsd-log-test', kind: 'STATSD', host: '127.0.0.1', port: 8125, timeout_ms: 0, keepalive_ms: 0, tls: false, tls_sni: '', facility: '', log_level: '',
  successful_severity: '', client_errors_severity: '', server_errors_severity: '', prefix: 'kong', status_filter: false, allow_status_codes: [],
  udp_packet_size: 0, use_tcp: false, hostname_in_prefix: false, metrics: [], service_name_tag: '', status_tag: '', consumer_tag: '', loggly_key: '', loggly_tags: [], ...over,
});
const metric = (name: string, stat_type: string, sample_rate = 0, consumer_identifier = 'custom_id') =>
  ({ name, stat_type, sample_rate, consumer_identifier, service_identifier: 'service_name_or_host', workspace_identifier: 'workspace_id', tags: [] as string[] });

const entry = {
  request: { size: 120 }, response: { status: 201, size: 64 }, latencies: { request: 12.6, proxy: 9, kong: 3 },
  service: { name: 'orders.v2' }, route: { id: 'r-1' }, consumer: { id: 'c-1', username: 'ann', custom_id: 'ann-7' },
};

describe('statsd lines', () => {
  it('value metrics: the stat type letter, the rate only when not 1, values rounded', () => {
    const c = sink({ metrics: [metric('latency', 'timer'), metric('request_size', 'counter', 1), metric('response_size', 'gauge', 0.25), metric('kong_latency', 'meter'), metric('upstream_latency', 'histogram')] });
    assert.deepEqual(statsdLines(c, entry, 'h'), [
      'kong.service.orders_v2.latency:13|ms', 'kong.service.orders_v2.request.size:120|c', 'kong.service.orders_v2.response.size:64|g|@0.25',
      'kong.service.orders_v2.kong_latency:3|m', 'kong.service.orders_v2.upstream_latency:9|h',
    ]);
  });
  it('consumer metrics by the identifier asked for; none without a consumer', () => {
    const c = sink({ metrics: [metric('unique_users', 'set', 0, 'username'), metric('request_per_user', 'counter', 1, 'consumer_id'), metric('status_count_per_user', 'counter', 1)] });
    assert.deepEqual(statsdLines(c, entry, 'h'), ['kong.service.orders_v2.user.uniques:ann|s', 'kong.service.orders_v2.user.c-1.request.count:1|c', 'kong.service.orders_v2.user.ann-7.status.201:1|c']);
    assert.deepEqual(statsdLines(c, { ...entry, consumer: undefined }, 'h'), []);
  });
  it('the service named by the identifier asked for: service_name, service_id, service_host (dots as "_"), service_name_or_host', () => {
    const withIds = { ...entry, service: { name: 'orders.v2', id: '7d1b-9f', host: 'orders.internal' } };
    const by = (service_identifier: string) => sink({ metrics: [{ ...metric('request_count', 'counter', 1), service_identifier }] });
    assert.deepEqual(statsdLines(by('service_name'), withIds, 'h'), ['kong.service.orders_v2.request.count:1|c']);
    assert.deepEqual(statsdLines(by('service_id'), withIds, 'h'), ['kong.service.7d1b-9f.request.count:1|c']);
    assert.deepEqual(statsdLines(by('service_host'), withIds, 'h'), ['kong.service.orders_internal.request.count:1|c']);
    assert.deepEqual(statsdLines(by('service_name_or_host'), { ...withIds, service: { host: 'orders.internal' } }, 'h'), ['kong.service.orders_internal.request.count:1|c']);
    assert.deepEqual(statsdLines(by('service_id'), entry, 'h'), ['kong.service.unnamed.request.count:1|c'], 'a service without the value asked for: Kong\'s unnamed');
  });
  it('no service: global.unmatched; the host name, dots as "_", in the prefix', () => {
    const c = sink({ prefix: 'edge', hostname_in_prefix: true, metrics: [metric('request_count', 'counter', 1), metric('status_count_per_user_per_route', 'counter', 1)] });
    assert.deepEqual(statsdLines(c, { ...entry, service: undefined }, 'gw-1.example.test'), ['edge.node.gw-1_example_test.global.unmatched.request.count:1|c', 'edge.node.gw-1_example_test.route.r-1.user.ann-7.status.201:1|c']);
  });
  it('allow_status_codes: inclusive ranges; an empty list counts nothing', () => {
    const m = [metric('status_count', 'counter', 1)];
    assert.equal(statsdLines(sink({ metrics: m, status_filter: true, allow_status_codes: [{ from: 200, to: 201 }] }), entry, 'h').length, 1);
    assert.equal(statsdLines(sink({ metrics: m, status_filter: true, allow_status_codes: [{ from: 202, to: 299 }] }), entry, 'h').length, 0);
    assert.equal(statsdLines(sink({ metrics: m, status_filter: true, allow_status_codes: [] }), entry, 'h').length, 0);
  });
  it('udp_packet_size: lines joined by "\\n" while they fit; 0 sends each alone', () => {
    const lines = ['a.b:1|c', 'a.c:2|c', 'a.d:3|c'];
    assert.deepEqual(statsdPackets(lines, 0), lines);
    assert.deepEqual(statsdPackets(lines, 15), ['a.b:1|c\na.c:2|c', 'a.d:3|c']);
    assert.deepEqual(statsdPackets(lines, 4), lines, 'a line longer than the size still goes, alone');
  });
});

describe('datadog lines (kong/plugins/datadog/handler.lua, statsd_logger.lua)', () => {
  const dd = (metrics: StreamLogSink__Output['metrics'], over: Partial<StreamLogSink__Output> = {}) =>
    sink({ kind: 'DATADOG', prefix: 'kong', service_name_tag: 'name', status_tag: 'status', consumer_tag: 'consumer', metrics, ...over });
  const ddMetric = (name: string, stat_type: string, sample_rate = 0, consumer_identifier = 'custom_id', tags = ['app:kong']) => ({ ...metric(name, stat_type, sample_rate, consumer_identifier), tags });

  it('one line a metric: Kong\'s tags (service, status, consumer), then the metric\'s', () => {
    assert.deepEqual(datadogLines(dd([ddMetric('request_count', 'counter', 1), ddMetric('latency', 'timer'), ddMetric('request_size', 'distribution', 0.5, 'consumer_id', ['T1:V1', 'T2'])]), entry), [
      'kong.request.count:1|c|#name:orders_v2,status:201,consumer:ann-7,app:kong',
      'kong.latency:13|ms|#name:orders_v2,status:201,consumer:ann-7,app:kong',
      'kong.request.size:120|d|@0.5|#name:orders_v2,status:201,consumer:c_1,T1:V1,T2',
    ]);
  });
  it('tag names and prefix of the config; no consumer tag without one; -1 for a latency the entry lacks', () => {
    const c = dd([ddMetric('upstream_latency', 'timer', 0, 'username', [])], { prefix: 'edge', service_name_tag: 'upstream', status_tag: 'code', consumer_tag: 'who' });
    assert.deepEqual(datadogLines(c, entry), ['edge.upstream_latency:9|ms|#upstream:orders_v2,code:201,who:ann']);
    assert.deepEqual(datadogLines(c, { response: { status: 404 }, latencies: { request: 1 } }), ['edge.upstream_latency:-1|ms|#upstream:,code:404']);
  });
});
