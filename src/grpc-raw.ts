import * as grpc from '@grpc/grpc-js';

/**
 * gRPC plumbing shared by the ADS server and the companion services: methods whose messages
 * travel as raw protobuf bytes (each service encodes and decodes with protobufjs itself, so
 * pre-encoded bytes go out as they are), binding, and a graceful stop.
 */

const toBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const asIs = (b: Buffer) => b;

/** A method definition that passes request and response bytes through untouched. */
export function rawMethod(path: string, stream: 'unary' | 'bidi'): grpc.MethodDefinition<Uint8Array, Uint8Array> {
  return {
    path, requestStream: stream === 'bidi', responseStream: stream === 'bidi',
    requestSerialize: toBuffer, requestDeserialize: asIs, responseSerialize: toBuffer, responseDeserialize: asIs,
  };
}

/** Binds a plaintext server on host:port (port 0: a free one) and resolves with the bound port. */
export function bindServer(server: grpc.Server, host: string, port: number): Promise<number> {
  const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}

/** Lets calls in flight finish for up to `graceMs`, then cuts the rest. */
export function stopServer(server: grpc.Server, graceMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { server.forceShutdown(); resolve(); }, graceMs);
    server.tryShutdown(() => { clearTimeout(timer); resolve(); });
  });
}
