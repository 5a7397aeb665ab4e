// The CLI's companion table agrees with the services it loads lazily.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMPANIONS } from '../../src/runtime/companions.js';

test('each lazily loaded companion has the name, port, usage and Envoy protos its service declares', async () => {
  assert.deepEqual(COMPANIONS.map((c) => c.name), ['authz', 'transform', 'log', 'ratelimit']);
  for (const c of COMPANIONS) {
    const real = await (c as typeof c & { load: () => Promise<typeof c> }).load();
    assert.equal(real.name, c.name);
    assert.equal(real.defaultPort, c.defaultPort);
    assert.equal(real.usage, c.usage);
    // Read before the service loads: a companion alone in its process loads only these Envoy messages.
    assert.deepEqual(c.envoyProtos, real.envoyProtos, `${c.name}: envoyProtos`);
  }
});
