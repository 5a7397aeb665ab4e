import type protobuf from 'protobufjs';
import { AdsStreamClient, type AdsStreamEvents, type AdsStreamOptions } from './ads-stream.js';
import { decodeToJson, type Json } from './proto-json.js';
import { typeForUrl } from './proto-registry.js';

export interface AdsClientOptions<R = Json> extends Omit<AdsStreamOptions<R>, 'decodeResource'> {
  /** How a resource's bytes are decoded, by its type from the proto registry; proto3 JSON (decodeToJson) by default. */
  decode?: (type: protobuf.Type, bytes: Uint8Array) => R;
}

export type AdsClientEvents<R = Json> = AdsStreamEvents<R>;

/**
 * The ADS client (ads-stream.ts) with resources decoded through the proto registry
 * (protobufjs): what the protocol tests, the benchmarks' simulated fleet and the companions
 * whose messages have no hand decoder use.
 */
export class AdsClient<R = Json> extends AdsStreamClient<R> {
  constructor(opts: AdsClientOptions<R>) {
    // Without `decode`, R is Json (the default type argument): resources are proto3 JSON.
    const decode = opts.decode ?? ((type: protobuf.Type, bytes: Uint8Array) => decodeToJson(type, bytes) as R);
    super({
      ...opts,
      decodeResource: (typeUrl, bytes) => {
        const t = typeForUrl(typeUrl);
        if (!t) throw new Error(`unknown type ${typeUrl}`);
        return decode(t, bytes);
      },
    });
  }
}
