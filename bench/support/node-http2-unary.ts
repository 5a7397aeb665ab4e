/**
 * The companions' unary gRPC server as it was on node:http2 (before src/http2/), without its
 * TLS: kept as the baseline bench/grpc-server runs beside serveUnary. Not used by the product.
 */
import { createServer, type ServerHttp2Stream } from 'node:http2';

const OK_HEADERS = Object.freeze({ ':status': 200, 'content-type': 'application/grpc' });
const OK_TRAILERS = Object.freeze({ 'grpc-status': '0' });
const WAIT_FOR_TRAILERS = Object.freeze({ waitForTrailers: true });
const EMPTY = Buffer.alloc(0);
function sendOkTrailers(this: ServerHttp2Stream): void {
  this.sendTrailers(OK_TRAILERS);
}

/** Serves `handler` for every path on `port` (0: a free one); resolves to the port bound. */
export async function serveUnaryOnNodeHttp2(port: number, handler: (request: Uint8Array) => Promise<Uint8Array>): Promise<number> {
  const server = createServer({ settings: { maxConcurrentStreams: 10_000 }, maxSessionMemory: 64 });
  server.on('session', (s) => s.on('error', () => undefined));
  server.on('stream', (stream) => {
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    stream.on('data', (c: Buffer) => {
      if (first === undefined) first = c;
      else (more ??= [first]).push(c);
    });
    stream.on('error', () => undefined);
    stream.on('end', () => {
      const buf = more ? Buffer.concat(more) : first ?? EMPTY;
      void handler(buf.subarray(5)).then((out) => {
        if (stream.destroyed) return;
        const frame = Buffer.allocUnsafe(5 + out.length);
        frame[0] = 0;
        frame.writeUInt32BE(out.length, 1);
        frame.set(out, 5);
        stream.respond(OK_HEADERS, WAIT_FOR_TRAILERS);
        stream.on('wantTrailers', sendOkTrailers);
        stream.end(frame);
      });
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}
