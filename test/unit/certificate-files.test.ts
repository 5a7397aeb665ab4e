// PEM files named by the config (certificates' cert_file / key_file, ca_certificates'
// cert_file): read beside the YAML, watched by the control plane; what cannot be used is a
// diagnostic at the field, so the last good config keeps serving.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createCa, issue } from '../../src/runtime/certs.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { TYPE } from '../../src/resources/type-urls.js';

describe('certificates from files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-pem-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = createCa(2);
  const one = issue(ca, { role: 'companion', name: 'one' }, [], 2);
  const two = issue(ca, { role: 'companion', name: 'two' }, [], 2);
  writeFileSync(join(dir, 'cert.pem'), one.cert);
  writeFileSync(join(dir, 'key.pem'), one.key);
  writeFileSync(join(dir, 'other-key.pem'), two.key);
  writeFileSync(join(dir, 'ca.pem'), ca.cert);
  const yaml = (key: string) => `_format_version: "3.0"
certificates:
  - id: gw
    cert_file: cert.pem
    key_file: ${key}
ca_certificates:
  - id: bundle
    cert_file: ca.pem
services:
  - name: s
    url: https://localhost:8443
    client_certificate: gw
    tls_verify: true
    ca_certificates: [bundle]
    routes: [{ name: r, paths: [/] }]
`;
  const compile = (key: string) => compileConfig([{ file: join(dir, 'gateway.yaml'), text: yaml(key) }]);

  test('read beside the YAML; the bundle is its own SDS secret, the files listed for watching', () => {
    const r = compile('key.pem');
    assert.ok(r.ok, JSON.stringify(r.diagnostics));
    const sds = r.translation!.fleets.get('')!.get(TYPE.secret)!;
    assert.equal((sds.get('certificate:gw') as any).tls_certificate.certificate_chain.inline_string, one.cert);
    assert.equal((sds.get('trust:s') as any).validation_context.trusted_ca.inline_string, ca.cert);
    const cluster = r.translation!.fleets.get('')!.get(TYPE.cluster)!.get('service:s') as any;
    assert.equal(cluster.transport_socket.typed_config.common_tls_context.combined_validation_context.validation_context_sds_secret_config.name, 'trust:s');
    assert.deepEqual(r.watchFiles, ['ca.pem', 'cert.pem', 'key.pem'].map((f) => join(dir, f)));
  });

  test('a missing file: FD_CERT_FILE at the field', () => {
    const r = compile('gone.pem');
    assert.equal(r.ok, false);
    const d = r.diagnostics.find((x) => x.code === 'FD_CERT_FILE')!;
    assert.equal(`${d.line}:${d.col}`, '5:15');
    assert.match(d.message, /cannot use the PEM file "gone.pem": no such file/);
  });

  test('a key that does not match the certificate (an agent between two writes) is refused', () => {
    const r = compile('other-key.pem');
    assert.equal(r.ok, false);
    const d = r.diagnostics.find((x) => x.code === 'FD_CERT_FILE')!;
    assert.match(d.message, /the key does not match the certificate/);
    assert.equal(`${d.line}:${d.col}`, '5:15');
  });
});
