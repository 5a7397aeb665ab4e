import * as grpc from '@grpc/grpc-js';

/** Messages as raw bytes: the tests read and write them as text. */
export const rawBytes = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };

const method = (path: string, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> => ({
  path, requestStream: false, responseStream,
  requestSerialize: rawBytes.serialize, requestDeserialize: rawBytes.deserialize,
  responseSerialize: rawBytes.serialize, responseDeserialize: rawBytes.deserialize,
});

/** test.Echo: Unary echoes (or fails on "fail", waits on "sleep:<ms>" before sending anything), Ticks streams "count,everyMs". */
export const ECHO_SERVICE: grpc.ServiceDefinition = {
  Unary: method('/test.Echo/Unary', false),
  Ticks: method('/test.Echo/Ticks', true),
};

export interface GrpcEcho {
  port: number;
  stop(): void;
}

/** A grpc-js server (HTTP/2, plaintext) serving test.Echo on a free loopback port. */
export async function startGrpcEcho(): Promise<GrpcEcho> {
  const server = new grpc.Server();
  server.addService(ECHO_SERVICE, {
    Unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const text = call.request.toString();
      if (text === 'fail') return cb({ code: grpc.status.FAILED_PRECONDITION, details: 'asked to fail' });
      const sleep = /^sleep:(\d+)$/.exec(text);
      const answer = () => {
        const md = new grpc.Metadata();
        md.set('x-upstream-saw', String(call.metadata.get('x-client')[0] ?? ''));
        call.sendMetadata(md);
        cb(null, Buffer.from(`echo:${text}:${call.getPath()}`));
      };
      if (sleep) setTimeout(answer, Number(sleep[1]));
      else answer();
    },
    Ticks: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const [count, every] = call.request.toString().split(',').map(Number) as [number, number];
      let n = 0;
      const t = setInterval(() => {
        if (call.cancelled) { clearInterval(t); return; }
        call.write(Buffer.from(`tick ${++n}`));
        if (n === count) { clearInterval(t); call.end(); }
      }, every);
    },
  });
  const port = await new Promise<number>((r, j) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
  return { port, stop: () => server.forceShutdown() };
}

export interface UnaryResult {
  reply?: string;
  err?: grpc.ServiceError;
  headers?: grpc.Metadata;
}

/** One unary call of `path` with a text message. */
export function unaryCall(client: grpc.Client, path: string, text: string, md = new grpc.Metadata()): Promise<UnaryResult> {
  return new Promise((resolve) => {
    let headers: grpc.Metadata | undefined;
    const call = client.makeUnaryRequest(path, rawBytes.serialize, rawBytes.deserialize, Buffer.from(text), md, (err, reply) => resolve({ reply: reply?.toString(), err: err ?? undefined, headers }));
    call.on('metadata', (m) => (headers = m));
  });
}
