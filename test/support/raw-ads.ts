import * as grpc from '@grpc/grpc-js';
import { messageType, typeForUrl } from '../../src/xds/proto-registry.js';
import { decodeToJson, type Json } from '../../src/xds/proto-json.js';

const SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService';

export interface SotwResponse { version_info: string; type_url: string; nonce: string; resources: Json[] }
export interface DeltaResponse { system_version_info: string; type_url: string; nonce: string; resources: { name: string; version: string; resource: Json }[]; removed_resources: string[] }

/**
 * A bare ADS stream for protocol tests: the test sends each request itself and reads the
 * responses one by one, so every step of the exchange can be asserted.
 */
export class RawAdsStream<R extends SotwResponse | DeltaResponse> {
  private readonly queue: R[] = [];
  private waiters: ((r: R) => void)[] = [];
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<Uint8Array, Buffer>;

  /** Settles with the error that ended the stream (a refused handshake, a cancelled call). */
  readonly failed: Promise<grpc.ServiceError>;

  constructor(port: number, readonly mode: 'sotw' | 'delta', credentials = grpc.credentials.createInsecure()) {
    this.client = new grpc.Client(`127.0.0.1:${port}`, credentials);
    const method = mode === 'sotw' ? 'StreamAggregatedResources' : 'DeltaAggregatedResources';
    this.call = this.client.makeBidiStreamRequest(`${SERVICE}/${method}`, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b);
    this.call.on('data', (buf: Buffer) => {
      const r = this.decode(buf);
      const w = this.waiters.shift();
      if (w) w(r);
      else this.queue.push(r);
    });
    this.failed = new Promise((resolve) => this.call.on('error', (e: grpc.ServiceError) => resolve(e)));
  }

  private decode(buf: Buffer): R {
    const any = (a: { type_url: string; value: Uint8Array }) => decodeToJson(typeForUrl(a.type_url)!, a.value);
    if (this.mode === 'sotw') {
      const m = messageType('envoy.service.discovery.v3.DiscoveryResponse').decode(buf) as unknown as { version_info: string; type_url: string; nonce: string; resources: { type_url: string; value: Uint8Array }[] };
      return { version_info: m.version_info, type_url: m.type_url, nonce: m.nonce, resources: m.resources.map(any) } as R;
    }
    const m = messageType('envoy.service.discovery.v3.DeltaDiscoveryResponse').decode(buf) as unknown as { system_version_info: string; type_url: string; nonce: string; removed_resources: string[]; resources: { name: string; version: string; resource: { type_url: string; value: Uint8Array } }[] };
    return {
      system_version_info: m.system_version_info, type_url: m.type_url, nonce: m.nonce, removed_resources: m.removed_resources,
      resources: m.resources.map((r) => ({ name: r.name, version: r.version, resource: any(r.resource) })),
    } as R;
  }

  /** Sends a DiscoveryRequest (SotW) or DeltaDiscoveryRequest, given as a plain object. */
  send(req: Record<string, unknown>): void {
    const t = messageType(this.mode === 'sotw' ? 'envoy.service.discovery.v3.DiscoveryRequest' : 'envoy.service.discovery.v3.DeltaDiscoveryRequest');
    this.call.write(t.encode(t.fromObject(req)).finish());
  }

  /** The next response (waits for it). */
  next(timeoutMs = 5000): Promise<R> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { this.waiters = this.waiters.filter((w) => w !== done); reject(new Error('no response in time')); }, timeoutMs);
      const done = (r: R) => { clearTimeout(t); resolve(r); };
      this.waiters.push(done);
    });
  }

  /** Responses already received and not yet read. */
  get pending(): number {
    return this.queue.length;
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}
