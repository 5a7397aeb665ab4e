/**
 * grpc-gateway's .proto at load time (runtime/proto-descriptors.ts): read beside the YAML that
 * names it, compiled into the descriptor set with its google.api.http rules; a .proto that does
 * not compile is a diagnostic at the .proto's own line:col; a missing file or import, at the
 * place that names it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import protobuf from 'protobufjs';
import { compileConfig } from '../../src/runtime/compile.js';
import { compileProto } from '../../src/runtime/proto-descriptors.js';

const dir = mkdtempSync(join(tmpdir(), 'frontdesk-proto-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const GOOD = `syntax = "proto3";
package shop.v1;
import "google/api/annotations.proto";
import "google/protobuf/empty.proto";
service Orders {
  rpc GetOrder (GetOrderRequest) returns (Order) { option (google.api.http) = { get: "/v1/orders/{id}" }; }
  rpc Ping (google.protobuf.Empty) returns (google.protobuf.Empty) { option (google.api.http) = { post: "/v1/ping" body: "*" }; }
}
message GetOrderRequest { string id = 1; }
message Order { string id = 1; repeated string items = 2; }
`;

function yaml(proto: string): string {
  return `_format_version: "3.0"
services:
  - name: orders
    url: grpc://10.0.0.1:50051
    routes:
      - name: rest
        paths: [/v1]
        plugins:
          - name: grpc-gateway
            config: { proto: ${proto} }
`;
}

function compile(files: Record<string, string>, proto: string) {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const file = join(dir, 'gateway.yaml');
  return compileConfig([{ file, text: yaml(proto) }]);
}

describe('grpc-gateway: the .proto at load time', () => {
  test('a .proto beside the YAML becomes a descriptor set with its services and http rules', () => {
    writeFileSync(join(dir, 'orders.proto'), GOOD);
    const r = compileProto(join(dir, 'orders.proto'));
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.resolved.services, ['shop.v1.Orders']);
    // Decode with the real descriptor.proto and google.api.http: the rules are in the method options.
    const root = new protobuf.Root();
    const deps = join(process.cwd(), 'node_modules', '@grpc', 'grpc-js-xds', 'deps', 'googleapis');
    root.resolvePath = (_o, t) => (t.startsWith('google/api') ? join(deps, t) : join(process.cwd(), 'node_modules', 'protobufjs', t));
    root.loadSync('google/api/annotations.proto');
    const T = root.lookupType('google.protobuf.FileDescriptorSet');
    const set = T.toObject(T.decode(Buffer.from(r.resolved.descriptorSetBase64, 'base64'))) as { file: { name: string; package?: string; dependency?: string[]; service?: { method: { name: string; options?: Record<string, unknown> }[] }[] }[] };
    const shop = set.file.find((f) => f.package === 'shop.v1')!;
    assert.deepEqual(shop.service![0]!.method.map((m) => [m.name, m.options?.['.google.api.http']]), [
      ['GetOrder', { get: '/v1/orders/{id}' }],
      ['Ping', { post: '/v1/ping', body: '*' }],
    ]);
    // google.protobuf.Empty is used: its file comes first, imported.
    const names = set.file.map((f) => f.package);
    assert.ok(names.indexOf('google.protobuf') < names.indexOf('shop.v1'));
    assert.ok(shop.dependency?.length === 1);
    const ok = compile({ 'orders.proto': GOOD }, 'orders.proto');
    assert.equal(ok.ok, true, ok.diagnostics.map((d) => d.message).join('\n'));
  });

  const diagnosticOf = (files: Record<string, string>, proto: string) => {
    const r = compile(files, proto);
    assert.equal(r.ok, false);
    const d = r.diagnostics.find((x) => x.code === 'FD_PROTO_INVALID');
    assert.ok(d, JSON.stringify(r.diagnostics));
    assert.equal(d.file, join(dir, proto));
    assert.deepEqual(d.path, ['services', 0, 'routes', 0, 'plugins', 0, 'config', 'proto']);
    return d;
  };

  test('a syntax error is reported at the .proto\'s own line:col', () => {
    const bad = GOOD.replace('message Order { string id = 1;', 'message Order { string id = ;');
    const d = diagnosticOf({ 'syntax.proto': bad }, 'syntax.proto');
    assert.equal(d.line, 10);
    assert.equal(d.col, bad.split('\n')[9]!.indexOf(';') + 1);
  });

  test('an unknown type is reported where it is written', () => {
    const bad = GOOD.replace('message Order { string id = 1;', 'message Order { strin id = 1;');
    const d = diagnosticOf({ 'type.proto': bad }, 'type.proto');
    assert.equal(d.line, 10);
    assert.equal(d.col, bad.split('\n')[9]!.indexOf('strin') + 1);
    assert.match(d.message, /strin/);
  });

  test('an import that resolves to no file is reported at the import', () => {
    const r = compile({ 'imports.proto': GOOD.replace('import "google/protobuf/empty.proto";', 'import "shop/missing.proto";') }, 'imports.proto');
    const d = r.diagnostics.find((x) => x.code === 'FD_PROTO_INVALID');
    assert.ok(d, JSON.stringify(r.diagnostics));
    assert.equal(d.line, 4);
    assert.equal(d.col, 8);
    assert.match(d.message, /import "shop\/missing.proto" not found/);
  });

  test('a proto file that does not exist is reported at the YAML\'s proto (line:col)', () => {
    const r = compile({}, 'nowhere.proto');
    const d = r.diagnostics.find((x) => x.code === 'FD_PROTO_NOT_FOUND');
    assert.ok(d, JSON.stringify(r.diagnostics));
    assert.equal(d.file, join(dir, 'gateway.yaml'));
    assert.equal(d.line, 10);
    assert.equal(d.col, 30);
  });

  test('proto is required (Kong declares it optional, but no method can be found without one)', () => {
    const r = compileConfig([{ file: join(dir, 'g.yaml'), text: yaml('x').replace('config: { proto: x }', 'config: {}') }]);
    assert.equal(r.ok, false);
    assert.match(r.diagnostics.map((d) => d.message).join('\n'), /proto/);
  });
});
