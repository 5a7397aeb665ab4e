import { createSocket, type Socket as UdpSocket } from 'node:dgram';

/** A UDP server on a free loopback port collecting the datagrams it gets, as text; `lines()` splits each at line feeds (StatsD's packets). */
export async function startDatagramSink() {
  const texts: string[] = [];
  const socket: UdpSocket = createSocket('udp4');
  socket.on('message', (m) => texts.push(m.toString('utf8')));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return {
    port: socket.address().port,
    texts,
    lines: () => texts.flatMap((d) => d.split('\n')),
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}
