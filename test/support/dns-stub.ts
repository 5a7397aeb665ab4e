/**
 * A DNS server for tests of ACME validation (Pebble's VA, given `-dnsserver`): UDP and TCP on
 * one free loopback port (Pebble's VA asks over TCP: va.go sets its dns.Client's Net to "tcp";
 * TCP messages carry a two-byte length prefix, RFC 1035 §4.2.2), answering every A question with `answer` (TTL 0) and every other question
 * (AAAA, CAA, TXT...) with NOERROR and no records, so the VA connects to `answer` over IPv4 and
 * finds no CAA record forbidding issuance. The question is echoed (RFC 1035 §4.1.2).
 */
import dgram from 'node:dgram';
import net, { isIPv4 } from 'node:net';
import { freePort } from './ports.js';

export interface DnsStub {
  /** '127.0.0.1:<port>', as Pebble's -dnsserver takes it. */
  readonly address: string;
  close(): Promise<void>;
}

const TYPE_A = 1;
const CLASS_IN = 1;
const HEADER_BYTES = 12;

/** Starts the stub on a free port; resolves once it is bound. */
export async function startDnsStub(answer = '127.0.0.1'): Promise<DnsStub> {
  if (!isIPv4(answer)) throw new Error(`dns-stub: the answer must be an IPv4 address, not ${JSON.stringify(answer)}`);
  const rdata = Buffer.from(answer.split('.').map(Number));
  const port = await freePort();
  const udp = dgram.createSocket('udp4');
  udp.on('message', (query, peer) => {
    const reply = replyTo(query, rdata);
    if (reply) udp.send(reply, peer.port, peer.address);
  });
  const connections = new Set<net.Socket>();
  const tcp = net.createServer((conn) => {
    connections.add(conn);
    conn.on('close', () => connections.delete(conn));
    conn.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const query = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + query.length);
        const reply = replyTo(query, rdata);
        if (!reply) {
          conn.destroy();
          return;
        }
        const length = Buffer.alloc(2);
        length.writeUInt16BE(reply.length);
        conn.write(Buffer.concat([length, reply]));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, '127.0.0.1', () => {
      udp.off('error', reject);
      resolve();
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, '127.0.0.1', () => {
        tcp.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    udp.close();
    throw err;
  }
  // A send to a peer that went away must not take the test process down.
  udp.on('error', () => undefined);
  return {
    address: `127.0.0.1:${port}`,
    async close() {
      for (const conn of connections) conn.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

/**
 * The response to one query: same id, QR and AA set, opcode and RD copied, RCODE 0; the first
 * question echoed and, for an IN A question, one A record pointing at it (name compression
 * 0xC00C). Undefined (no reply) for what is not a query with a question.
 */
function replyTo(query: Buffer, rdata: Buffer): Buffer | undefined {
  if (query.length < HEADER_BYTES) return undefined;
  const flags = query.readUInt16BE(2);
  if (flags & 0x8000) return undefined; // a response, not a query
  if (query.readUInt16BE(4) < 1) return undefined;
  // The question's name: labels up to the zero byte (queries carry no compression pointers).
  let at = HEADER_BYTES;
  while (at < query.length && query[at] !== 0) {
    if ((query[at]! & 0xc0) !== 0) return undefined;
    at += query[at]! + 1;
  }
  const end = at + 1 + 4;
  if (end > query.length) return undefined;
  const qtype = query.readUInt16BE(at + 1);
  const qclass = query.readUInt16BE(at + 3);
  const question = query.subarray(HEADER_BYTES, end);
  const isA = qtype === TYPE_A && qclass === CLASS_IN;

  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  header.writeUInt16BE(0x8000 | (flags & 0x7800) | 0x0400 | (flags & 0x0100), 2); // QR, opcode, AA, RD
  header.writeUInt16BE(1, 4); // QDCOUNT
  header.writeUInt16BE(isA ? 1 : 0, 6); // ANCOUNT
  if (!isA) return Buffer.concat([header, question]);
  const record = Buffer.alloc(12);
  record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
  record.writeUInt16BE(TYPE_A, 2);
  record.writeUInt16BE(CLASS_IN, 4);
  record.writeUInt32BE(0, 6); // TTL 0
  record.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([header, question, record, rdata]);
}
