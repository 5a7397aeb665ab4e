import type { Logger } from '../../src/logger.js';
import { EnvoyProcess } from '../../src/runtime/envoy.js';

/**
 * A fast upstream for through-Envoy benchmarks: a second, static Envoy whose one listener
 * answers every request with a fixed 200 (direct_response). It is never the bottleneck, unlike
 * a Node echo server, and needs nothing but the Envoy the project already uses.
 */
export interface DirectUpstream {
  url: string;
  port: number;
  body: string;
  pid: number;
  envoy: EnvoyProcess;
  stop(): Promise<void>;
}

/**
 * `readBody`: the request's body is read whole before the answer (Envoy's buffer filter, up to
 * 8 MiB), as a log collector does: answered early, an HTTP/1.1 request's connection is closed,
 * so a client posting bodies would pay a new connection for each.
 */
export async function startDirectUpstream(o: { logger: Logger; body?: string; concurrency?: number; bin?: string; readBody?: boolean; headers?: Record<string, string> }): Promise<DirectUpstream> {
  const body = o.body ?? 'frontdesk-bench-upstream';
  const bootstrap = {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [{
        name: 'upstream',
        address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
        filter_chains: [{
          filters: [{
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              stat_prefix: 'upstream',
              route_config: {
                virtual_hosts: [{
                  name: 'all', domains: ['*'],
                  routes: [{
                    match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: body } },
                    ...(o.headers ? { response_headers_to_add: Object.entries(o.headers).map(([key, value]) => ({ header: { key, value } })) } : {}),
                  }],
                }],
              },
              http_filters: [
                ...(o.readBody ? [{ name: 'envoy.filters.http.buffer', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer', max_request_bytes: 8 * 1024 * 1024 } }] : []),
                { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
              ],
            },
          }],
        }],
      }],
    },
  };
  const envoy = await EnvoyProcess.start({ bootstrapYaml: JSON.stringify(bootstrap), logger: o.logger, concurrency: o.concurrency ?? 1, bin: o.bin });
  try {
    await envoy.waitReady(30_000);
    const res = await fetch(`${envoy.adminUrl}/listeners?format=json`);
    const j = await res.json() as { listener_statuses?: { local_address?: { socket_address?: { port_value?: number } } }[] };
    const port = j.listener_statuses?.[0]?.local_address?.socket_address?.port_value;
    if (!port) throw new Error(`upstream Envoy reported no listener port: ${JSON.stringify(j)}`);
    return { url: `http://127.0.0.1:${port}`, port, body, pid: envoy.pid!, envoy, stop: () => envoy.stop() };
  } catch (e) {
    await envoy.stop();
    throw e;
  }
}
