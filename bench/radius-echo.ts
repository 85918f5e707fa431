/**
 * The runtime floor for `bench:radius`: a bare Node dgram server that sends every datagram
 * straight back, on the same core and under the same generator as the two RADIUS servers. What
 * it costs per request is what Node itself spends receiving and answering one datagram, before
 * any RADIUS work; the bench prints it beside the servers so the gap left to close is visible.
 */
import { createSocket } from 'node:dgram';

const socket = createSocket({
  type: 'udp4',
  recvBufferSize: 8 * 1024 * 1024,
  // Replies go to the literal the datagram came from, as in radius/server.ts: no lookup deferred a tick.
  lookup: (address, _options, callback) => callback(null, address, 4),
});
socket.on('message', (datagram, rinfo) => socket.send(datagram, rinfo.port, rinfo.address));
socket.bind(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: socket.address().port })}\n`));
process.on('SIGTERM', () => socket.close(() => process.exit(0)));
