/**
 * Configurations Envoy would refuse (NACK), or that could never match a request, each with where `validate` must point: the text
 * holds one `⟦` marking the line:col of the entity (or value) the diagnostic names; the marker
 * is removed before the text is loaded. `envoy` names the resource type a real Envoy NACKs when
 * the resources are pushed without Frontdesk's check (test/e2e/envoy-refusals.test.ts).
 */
import { selfSignedCert, yamlBlock } from './certs.js';

export interface Refusal {
  name: string;
  yaml: (ctx: { port: number; upstream: string }) => string;
  code: string;
  /** Part of the message (Kong's wording, or the field Envoy names). */
  says: string;
  envoy?: 'RDS' | 'CDS' | 'SDS' | 'LDS';
}

export const MARK = '⟦';

/** The text without its marker, and the marker's 1-based line:col. */
export function marked(text: string): { text: string; line: number; col: number } {
  const i = text.indexOf(MARK);
  if (i < 0 || text.indexOf(MARK, i + 1) >= 0) throw new Error('a case needs exactly one marker');
  const before = text.slice(0, i);
  const line = before.split('\n').length;
  const col = i - before.lastIndexOf('\n');
  return { text: before + text.slice(i + MARK.length), line, col };
}

const service = (route: string, extra = '') => ({ upstream }: { upstream: string }) => `_format_version: "3.0"
services:
  - name: app
    url: ${upstream}
${extra}    routes:
      - ${route}
`;
const route = (fields: string) => service(`name: r\n        paths: ["/ok"]\n${fields}`);
const upstreamCfg = (fields: string, marker = '') => ({ upstream }: { upstream: string }) => `_format_version: "3.0"
upstreams:
  - ${marker}name: pool
${fields}
    targets: [{ target: "${new URL(upstream).host}" }]
services:
  - name: app
    host: pool
    routes:
      - name: r
        paths: ["/ok"]
`;
const hostRoute = (host: string) => service(`name: r\n        hosts: [⟦"${host}"]`);

const a = selfSignedCert(['a.example.test']);
const b = selfSignedCert(['b.example.test']);
const certificate = (snis: string, key = a.key, keyMark = '') => ({ port, upstream }: { port: number; upstream: string }) => `_format_version: "3.0"
certificates:
  - cert: |
${yamlBlock(a.cert, 6)}
    key: ${keyMark}|
${yamlBlock(key, 6)}
    snis: ${snis}
listeners:
  - { name: tls, address: 127.0.0.1, port: ${port}, protocol: https }
services:
  - name: app
    url: ${upstream}
    routes:
      - name: r
        paths: ["/ok"]
`;

export const REFUSALS: Refusal[] = [
  // What Envoy's protos refuse (PGV) and what it checks beyond them: Frontdesk's resource check.
  { name: 'a path with a line feed', yaml: service('name: r\n        paths: [⟦"/a\\nb"]'), code: 'FD_ENVOY_REJECTS', says: 'header.value: value does not match regex pattern for HTTP header value', envoy: 'RDS' },
  { name: 'a path with a NUL', yaml: service('name: r\n        paths: [⟦"/a\\0b"]'), code: 'FD_ENVOY_REJECTS', says: 'header.value: value does not match regex pattern for HTTP header value' },
  { name: 'a path with a carriage return', yaml: service('name: r\n        paths: [⟦"/a\\rb"]'), code: 'FD_ENVOY_REJECTS', says: 'header.value: value does not match regex pattern for HTTP header value' },
  { name: 'the second of two paths with a line feed', yaml: service('name: r\n        paths: ["/ok", ⟦"/a\\nb"]'), code: 'FD_ENVOY_REJECTS', says: 'header.value: value does not match regex pattern for HTTP header value' },
  { name: 'a path with a line feed that is not stripped (no request could match it)', yaml: service('name: r\n        strip_path: false\n        paths: [⟦"/a\\nb"]'), code: 'FD_ROUTE_NEVER_MATCHES', says: 'which no request path can hold' },
  { name: 'a path longer than a header value may be (X-Forwarded-Prefix)', yaml: service(`name: r\n        paths: [⟦"/${'a'.repeat(17_000)}"]`), code: 'FD_ENVOY_REJECTS', says: 'at most 16384 bytes', envoy: 'RDS' },
  { name: 'a header name with a line feed', yaml: service('⟦name: r\n        paths: ["/ok"]\n        headers:\n          "x-a\\nb": ["v"]'), code: 'FD_ENVOY_REJECTS', says: 'HTTP header name', envoy: 'RDS' },
  { name: 'a service path with a line feed', yaml: ({ upstream }) => `_format_version: "3.0"\nservices:\n  - name: app\n    host: ${new URL(upstream).hostname}\n    port: ${new URL(upstream).port}\n    path: ⟦"/a\\nb"\n    routes:\n      - name: r\n        paths: ["/ok"]\n`, code: 'FD_ENVOY_REJECTS', says: 'regex_rewrite.substitution' },
  { name: 'an upstream hash header with a line feed', yaml: upstreamCfg('    algorithm: consistent-hashing\n    hash_on: header\n    hash_on_header: "x-a\\nb"', MARK), code: 'FD_ENVOY_REJECTS', says: 'hash_policy' },
  { name: 'an upstream host_header with a line feed', yaml: upstreamCfg('    host_header: "a\\nb.example.test"', MARK), code: 'FD_ENVOY_REJECTS', says: 'host_rewrite_literal' },
  { name: 'an active health check with a zero timeout', yaml: upstreamCfg('    healthchecks:\n      ⟦active:\n        timeout: 0\n        healthy: { interval: 5 }'), code: 'FD_ENVOY_REJECTS', says: 'timeout: value must be greater than 0s', envoy: 'CDS' },
  { name: 'an active health check path with a line feed', yaml: upstreamCfg('    healthchecks:\n      ⟦active:\n        http_path: "/a\\nb"\n        healthy: { interval: 5 }'), code: 'FD_ENVOY_REJECTS', says: 'http_health_check.path' },
  { name: 'a certificate whose key is not its own', yaml: certificate('[a.example.test]', b.key, '⟦'), code: 'FD_ENVOY_REJECTS', says: 'the private key does not match the certificate', envoy: 'SDS' },
  // Hosts and SNIs as Kong validates them (they would compile to :authority regexes that never match).
  { name: 'a host with a port past 65535', yaml: hostRoute('api.example.com:99999'), code: 'FD_BAD_HOST', says: 'invalid port number' },
  { name: 'a host with a wildcard in the middle', yaml: hostRoute('api.*.example.com'), code: 'FD_BAD_HOST', says: 'invalid wildcard: must be placed at leftmost or rightmost label' },
  { name: 'a host with two wildcards', yaml: hostRoute('*.example.*'), code: 'FD_BAD_HOST', says: 'invalid wildcard: must have at most one wildcard' },
  { name: 'a host written as a URL', yaml: hostRoute('http://api.example.com'), code: 'FD_BAD_HOST', says: 'invalid host "http://api.example.com"' },
  { name: 'a certificate SNI with a wildcard in the middle', yaml: certificate('[⟦"a.*.example.test"]'), code: 'FD_INVALID_VALUE', says: 'wildcard must be leftmost or rightmost character' },
  { name: 'a certificate SNI with a port', yaml: certificate('[⟦"a.example.test:443"]'), code: 'FD_INVALID_VALUE', says: 'must not have a port' },
  { name: 'a certificate SNI that is an IP', yaml: certificate('[⟦"10.0.0.1"]'), code: 'FD_INVALID_VALUE', says: 'must not be an IP' },
  // Refused when the file loads (the model's own rules), also before anything reaches Envoy.
  { name: 'a regex path RE2 cannot compile', yaml: service('name: r\n        paths: [⟦"~/a(b"]'), code: 'FD_BAD_REGEX', says: 'missing closing )' },
  { name: 'a header regex RE2 cannot compile', yaml: route('        headers:\n          x-a: [⟦"~*(a"]'), code: 'FD_BAD_REGEX', says: 'missing closing )' },
  { name: 'a zero connect_timeout', yaml: ({ upstream }) => `_format_version: "3.0"\nservices:\n  - name: app\n    url: ${upstream}\n    connect_timeout: ⟦0\n    routes:\n      - name: r\n        paths: ["/ok"]\n`, code: 'FD_INVALID_VALUE', says: 'connect_timeout' },
  { name: 'a request header added with a line feed in its value', yaml: service('name: r\n        paths: ["/ok"]', '    plugins:\n      - name: request-transformer\n        config:\n          add:\n            headers: [⟦"x-a:b\\nc"]\n'), code: 'FD_INVALID_VALUE', says: 'valid header name and value' },
];
