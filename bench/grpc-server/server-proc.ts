/**
 * One unary gRPC server with an empty handler (it answers every call with the same
 * RateLimitResponse, OK), in its own process for bench/grpc-server/run.ts:
 * `node --import tsx bench/grpc-server/server-proc.ts --impl frontdesk|node-http2`.
 * Prints `ready <port>`; stops on SIGTERM.
 */
import { serveUnary } from '../../src/grpc-raw.js';
import { RLS_METHOD } from '../../src/ratelimit/server.js';
import { serveUnaryOnNodeHttp2 } from '../support/node-http2-unary.js';

const OK = Uint8Array.of(0x08, 0x01); // RateLimitResponse { overall_code: OK }
const answer = async () => OK;
const impl = process.argv[process.argv.indexOf('--impl') + 1];
const port = impl === 'node-http2'
  ? await serveUnaryOnNodeHttp2(0, answer)
  : (await serveUnary('127.0.0.1', 0, { [RLS_METHOD]: answer })).port;
process.stdout.write(`ready ${port}\n`);
process.on('SIGTERM', () => process.exit(0));
