/**
 * Kong's regex paths beyond Envoy's default RE2 limit, through one real Envoy started from
 * Frontdesk's bootstrap. Envoy refuses a regex whose compiled RE2 program is over
 * `re2.max_program_size.error_level` instructions (100 unless the bootstrap's runtime says
 * otherwise); Kong's PCRE has no such limit. A path with two UUIDs written out
 * (`[0-9a-f]{8}-[0-9a-f]{4}-…`) is a regex of 158 instructions in the route Envoy gets (Envoy's
 * own figure: its refusal at the default names it), so at Envoy's default the whole route
 * configuration would be refused. Frontdesk's bootstrap raises the limit (src/runtime/bootstrap.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RE2_MAX_PROGRAM_SIZE } from '../../src/runtime/bootstrap.js';
import { nackSince, startGateway, type Gateway } from '../support/gateway.js';
import { proxyRequest } from '../support/proxy-request.js';
import { startEchoUpstream, type EchoReply } from '../support/upstream.js';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const ORDER = '3f2b6c1e-9d4a-4b7e-8c2f-1a5d9e7b3c40';
const ITEM = 'b8e1f0a2-47c3-4d9b-a6e5-0c1d2f3e4a5b';

async function get(gw: Gateway, path: string): Promise<{ status: number; echo?: EchoReply; text: string }> {
  const r = await proxyRequest(gw, { path });
  return { status: r.status, echo: r.status === 200 ? JSON.parse(r.text) as EchoReply : undefined, text: r.text };
}

describe("a Kong regex path over Envoy's default RE2 program size", () => {
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let gw: Gateway;

  before(async () => {
    upstream = await startEchoUpstream('orders');
    gw = await startGateway(`_format_version: "3.0"
services:
  - name: orders
    url: ${upstream.url}
    routes:
      - name: order-item
        strip_path: false
        paths: ['~/orders/${UUID}/items/${UUID}$']
`);
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  test("Envoy runs with Frontdesk's limit, and holds the route", async () => {
    // Envoy prints a number of the runtime as a double (1.04858e+06): compared as a number.
    const runtime = await (await fetch(`${gw.envoy.adminUrl}/runtime`)).json() as { entries: Record<string, { final_value: string }> };
    assert.ok(Math.abs(Number(runtime.entries['re2.max_program_size.error_level']?.final_value) - RE2_MAX_PROGRAM_SIZE) < 100, JSON.stringify(runtime.entries['re2.max_program_size.error_level']));
    const dump = await (await fetch(`${gw.envoy.adminUrl}/config_dump?resource=dynamic_route_configs`)).json() as
      { configs: { route_config: { virtual_hosts: { routes: { name: string }[] }[] } }[] };
    const names = dump.configs.flatMap((c) => c.route_config.virtual_hosts.flatMap((v) => v.routes.map((r) => r.name)));
    assert.ok(names.includes('order-item'), names.join(', '));
  });

  test('a request the regex matches reaches the upstream with its path; others get Kong\'s 404', async () => {
    const hit = await get(gw, `/orders/${ORDER}/items/${ITEM}`);
    assert.equal(hit.status, 200, hit.text);
    assert.equal(hit.echo?.path, `/orders/${ORDER}/items/${ITEM}`);
    // Kong's regex is anchored at the start, and this one ends with `$`.
    for (const path of [`/orders/${ORDER}/items/${ITEM}/more`, `/orders/${ORDER}/items/not-a-uuid`, `/v1/orders/${ORDER}/items/${ITEM}`]) {
      const miss = await get(gw, path);
      assert.equal(miss.status, 404, `${path}: ${miss.text}`);
      assert.deepEqual(JSON.parse(miss.text), { message: 'no Route matched with those values' });
    }
  });

  test("at Envoy's default limit the same route configuration is refused, naming its size", async () => {
    // What an Envoy with its own bootstrap would do: the reason the limit is raised. The route
    // configuration already held stays in force, so this runs last.
    const set = await fetch(`${gw.envoy.adminUrl}/runtime_modify?re2.max_program_size.error_level=100`, { method: 'POST' });
    assert.equal(set.status, 200, await set.text());
    const since = Date.now();
    gw.write(`_format_version: "3.0"
services:
  - name: orders
    url: ${upstream.url}
    routes:
      - name: order-item-again
        strip_path: false
        paths: ['~/orders/${UUID}/items/${UUID}$']
`);
    const detail = await nackSince(gw, 'RDS', since);
    assert.match(detail, /RE2 program size of 158 > max program size of 100/);
    const still = await get(gw, `/orders/${ORDER}/items/${ITEM}`);
    assert.equal(still.status, 200, 'the configuration Envoy held before keeps serving');
  });
});
