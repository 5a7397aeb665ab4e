/**
 * The log companion's lean decoder of Envoy's StreamAccessLogsMessage (src/log/als-decode.ts):
 * messages encoded by protobufjs from Envoy's own .proto files, as Envoy sends them, read back
 * field by field; fields the companion does not use are skipped, malformed bytes are refused.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeAccessLogs } from '../../src/log/als-decode.js';
import { kongEntry } from '../../src/log/entry.js';
import { messageType } from '../../src/xds/proto-registry.js';

const MESSAGE = 'envoy.service.accesslog.v3.StreamAccessLogsMessage';

function encode(o: object): Uint8Array {
  const t = messageType(MESSAGE);
  return t.encode(t.fromObject(o)).finish();
}

// google.protobuf's own types come from protobufjs, with its camel-case field names.
const str = (v: string) => ({ stringValue: v });

const entry = {
  common_properties: {
    sample_rate: 1,
    downstream_remote_address: { socket_address: { address: '10.1.2.3', port_value: 41234 } },
    downstream_local_address: { socket_address: { address: '127.0.0.1', port_value: 8000 } },
    tls_properties: { tls_version: 'TLSv1_3', tls_sni_hostname: 'api.example.com' },
    start_time: { seconds: 1764590000, nanos: 123_456_789 },
    time_to_last_rx_byte: { nanos: 1_000_000 },
    time_to_first_upstream_tx_byte: { nanos: 2_400_000 },
    time_to_first_upstream_rx_byte: { seconds: 1, nanos: 7_600_000 },
    time_to_last_downstream_tx_byte: { seconds: 1, nanos: 9_000_000 },
    upstream_remote_address: { socket_address: { address: '10.9.9.9', port_value: 8080 } },
    upstream_cluster: 'service_a',
    response_flags: { rate_limited: true, upstream_request_timeout: true },
    metadata: {
      filter_metadata: {
        'envoy.filters.http.rbac': { fields: { shadow: str('deny') } },
        'envoy.filters.http.ext_authz': { fields: { consumer_id: str('c-1'), consumer_username: str('alice'), other: { numberValue: 3 } } },
      },
    },
    custom_tags: { 'kong.service': 'a', 'kong.route': 'r', 'frontdesk.http_log': 'http-log-0123' },
    upstream_request_attempt_count: 2,
  },
  protocol_version: 'HTTP11',
  request: {
    request_method: 'PATCH', scheme: 'https', authority: 'api.example.com', port: { value: 443 }, path: '/things/1?key=secret',
    user_agent: 'curl/8', request_id: 'abc', request_headers: { Accept: 'application/json', 'x-forwarded-path': '/things/1' },
    request_headers_bytes: 321, request_body_bytes: 5_000_000_000,
  },
  response: {
    response_code: { value: 429 }, response_headers_bytes: 120, response_body_bytes: 17,
    response_headers: { 'content-type': 'text/plain', 'retry-after': '' }, response_code_details: 'via_upstream',
  },
};

describe('decodeAccessLogs', () => {
  test('reads the identifier\'s log_name and every field the companion uses of each entry', () => {
    const m = decodeAccessLogs(encode({ identifier: { node: { id: 'envoy-1', cluster: 'c' }, log_name: 'frontdesk' }, http_logs: { log_entry: [entry, {}] } }));
    assert.equal(m.logName, 'frontdesk');
    assert.equal(m.entries.length, 2);
    assert.deepEqual(m.entries[0], {
      method: 'PATCH', scheme: 'https', authority: 'api.example.com', path: '/things/1?key=secret',
      // Header names lower-cased; an empty value is no header. User-Agent and X-Request-Id come
      // from the entry's own fields (Envoy fills them from those headers).
      requestHeaders: { accept: 'application/json', 'x-forwarded-path': '/things/1', 'user-agent': 'curl/8', 'x-request-id': 'abc' },
      requestHeadersBytes: 321, requestBodyBytes: 5_000_000_000,
      status: 429, responseHeaders: { 'content-type': 'text/plain' }, responseHeadersBytes: 120, responseBodyBytes: 17,
      clientIp: '10.1.2.3', upstreamHost: '10.9.9.9:8080',
      // Epoch milliseconds (truncated), durations rounded to the millisecond.
      startedAt: 1764590000123, upstreamTxMs: 2, upstreamRxMs: 1008, totalMs: 1009,
      attempts: 2, rateLimited: true,
      tags: { 'kong.service': 'a', 'kong.route': 'r', 'frontdesk.http_log': 'http-log-0123' },
      consumerId: 'c-1', consumerUsername: 'alice',
    });
    assert.deepEqual(m.entries[1], {
      requestHeaders: {}, requestHeadersBytes: 0, requestBodyBytes: 0, status: 0, responseHeaders: {}, responseHeadersBytes: 0, responseBodyBytes: 0, rateLimited: false, tags: {},
    });
  });

  test('a later message of the stream has no identifier; TCP entries are skipped', () => {
    const m = decodeAccessLogs(encode({ tcp_logs: { log_entry: [{ common_properties: { upstream_cluster: 'x' } }] } }));
    assert.equal(m.logName, undefined);
    assert.deepEqual(m.entries, []);
  });

  test('truncated bytes are refused, not half-read', () => {
    const bytes = encode({ identifier: { log_name: 'frontdesk' }, http_logs: { log_entry: [entry] } });
    assert.throws(() => decodeAccessLogs(bytes.subarray(0, bytes.length - 5)), /truncated|overran/);
  });

  test('a header the entry\'s unlogged_headers tag names (a key-auth key) is left out of Kong\'s entry', () => {
    const keyed = { ...entry, common_properties: { ...entry.common_properties, custom_tags: { ...entry.common_properties.custom_tags, unlogged_headers: 'x-request-id' } } };
    const [e] = decodeAccessLogs(encode({ http_logs: { log_entry: [keyed] } })).entries;
    const headers = (kongEntry(e!) as { request: { headers: Record<string, string> } }).request.headers;
    assert.equal(headers['x-request-id'], undefined);
    assert.equal(headers['user-agent'], 'curl/8');
  });

  test('Kong\'s latencies: proxy the upstream\'s wait and kong the time before it; for an answer no upstream gave, proxy -1 and kong its response latency', () => {
    const [proxied] = decodeAccessLogs(encode({ http_logs: { log_entry: [entry] } })).entries;
    assert.deepEqual((kongEntry(proxied!) as { latencies: unknown }).latencies, { request: 1009, proxy: 1006, kong: 2 });
    const local = {
      common_properties: { start_time: { seconds: 1764590000 }, time_to_first_downstream_tx_byte: { nanos: 3_000_000 }, time_to_last_downstream_tx_byte: { nanos: 4_000_000 } },
      request: { request_method: 'GET', path: '/x' },
      response: { response_code: { value: 401 } },
    };
    const [refused] = decodeAccessLogs(encode({ http_logs: { log_entry: [local] } })).entries;
    assert.deepEqual((kongEntry(refused!) as { latencies: unknown }).latencies, { request: 4, proxy: -1, kong: 3 });
  });
});
