/**
 * Load generator for `bench:radius`: pre-encodes a deterministic set of requests, then keeps a
 * fixed number outstanding across several sockets and reports req/s and latency percentiles as
 * one JSON line. Run pinned to its own core (the orchestrator uses taskset).
 */
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { accessRequest, accountingRequest } from '../radius/test-packets.js';
import { AcctStatus, Attr } from '../radius/protocol/constants.js';
import { textTlv, tlv } from '../radius/protocol/encode.js';

export type Scenario = 'pap' | 'chap' | 'acct';

export interface LoadOptions {
  host: string;
  port: number;
  secret: string;
  scenario: Scenario;
  users: number;
  /** For accounting: the Class each session carries, per user index. */
  classPrefix: string;
  sockets: number;
  outstandingPerSocket: number;
  warmupMs: number;
  durationMs: number;
  packetsPerSocket: number;
}

export interface LoadResult {
  scenario: Scenario;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  completed: number;
  lost: number;
  wrapped: boolean;
}

/** Same seed → same bytes for both servers. */
function deterministicAuthenticator(seed: string): Buffer {
  return createHash('md5').update(seed).digest();
}

export function userName(index: number): string {
  return `user${index}@bench.example`;
}
export function userPassword(index: number): string {
  return `pw-${index}-bench`;
}
export function voucherCode(index: number): string {
  return `BENCH${String(index).padStart(5, '0')}`;
}

function encode(options: LoadOptions, socketIndex: number, sequence: number, tag = 'run'): Buffer {
  const secret = Buffer.from(options.secret);
  const identifier = sequence % 256;
  const user = (socketIndex * 7919 + sequence) % options.users;
  // One device per guest, as a real guest re-authenticating would be.
  const mac = `02-00-00-00-${(user >> 8).toString(16).padStart(2, '0')}-${(user & 0xff).toString(16).padStart(2, '0')}`;
  const nasIp = tlv(Attr.NasIpAddress, Buffer.from([127, 0, 0, 1]));
  if (options.scenario === 'pap' || options.scenario === 'chap') {
    const authenticator = deterministicAuthenticator(`${tag}/${options.scenario}/${socketIndex}/${sequence}`);
    return options.scenario === 'pap'
      ? accessRequest({
          identifier,
          secret,
          userName: userName(user),
          password: userPassword(user),
          callingStationId: mac,
          extra: [nasIp],
          authenticator,
        })
      : accessRequest({
          identifier,
          secret,
          userName: voucherCode(user),
          chapPassword: voucherCode(user),
          callingStationId: mac,
          extra: [nasIp],
          authenticator,
        });
  }
  const session = socketIndex * options.outstandingPerSocket + (sequence % options.outstandingPerSocket);
  return accountingRequest({
    identifier,
    secret,
    status: AcctStatus.InterimUpdate,
    sessionId: `bench-${session}`,
    subscriptionId: `${options.classPrefix}${session % options.users}`,
    inputOctets: sequence * 1000,
    outputOctets: sequence * 4000,
    extra: [textTlv(Attr.CallingStationId, mac), nasIp, tlv(Attr.AcctSessionTime, Buffer.from([0, 0, 0, 60]))],
  });
}

/** Start records so that the accounting run updates live sessions (sent before the clock starts). */
export function startPackets(options: LoadOptions): Buffer[] {
  const out: Buffer[] = [];
  const total = options.sockets * options.outstandingPerSocket;
  for (let session = 0; session < total; session++) {
    out.push(
      accountingRequest({
        identifier: session % 256,
        secret: Buffer.from(options.secret),
        status: AcctStatus.Start,
        sessionId: `bench-${session}`,
        subscriptionId: `${options.classPrefix}${session % options.users}`,
      }),
    );
  }
  return out;
}

/** Sends packets one window at a time and waits for every answer (priming caches, opening sessions). */
async function sendAll(options: LoadOptions, packets: Buffer[]): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  let answered = 0;
  for (let offset = 0; offset < packets.length; offset += 128) {
    const window = packets.slice(offset, offset + 128);
    const waiting = new Set(window.map((packet) => packet[1]!));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 60_000);
      const onMessage = (message: Buffer): void => {
        if (waiting.delete(message[1]!)) answered += 1;
        if (waiting.size === 0) {
          clearTimeout(timer);
          socket.off('message', onMessage);
          resolve();
        }
      };
      socket.on('message', onMessage);
      for (const packet of window) socket.send(packet, options.port, options.host);
    });
  }
  socket.close();
  return answered;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  // Prime: every user once (bcrypt caches, voucher lookups) or every session started.
  const prime =
    options.scenario === 'acct'
      ? startPackets(options)
      : Array.from({ length: options.users }, (_, user) => encode(options, 0, user, 'prime'));
  await sendAll(options, prime);

  const pools = Array.from({ length: options.sockets }, (_, s) =>
    Array.from({ length: options.packetsPerSocket }, (_, k) => encode(options, s, k)),
  );
  const latencies = new Float64Array(4_000_000);
  let samples = 0;
  let completed = 0;
  let lost = 0;
  let measuring = false;
  let wrapped = false;
  const sockets: Socket[] = [];
  const states = pools.map(() => ({ next: 0, sentAt: new Float64Array(256).fill(-1) }));

  for (let s = 0; s < options.sockets; s++) {
    const socket = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    sockets.push(socket);
  }
  const sendNext = (s: number): void => {
    const state = states[s]!;
    const pool = pools[s]!;
    const sequence = state.next++;
    if (sequence >= pool.length) wrapped = true;
    const packet = pool[sequence % pool.length]!;
    state.sentAt[packet[1]!] = performance.now();
    sockets[s]!.send(packet, options.port, options.host);
  };
  sockets.forEach((socket, s) => {
    socket.on('message', (message) => {
      const state = states[s]!;
      const sentAt = state.sentAt[message[1]!]!;
      if (sentAt < 0) return;
      state.sentAt[message[1]!] = -1;
      if (measuring) {
        completed += 1;
        if (samples < latencies.length) latencies[samples++] = performance.now() - sentAt;
      }
      sendNext(s);
    });
  });
  // Requests unanswered for a second are counted lost and replaced, keeping the window full.
  const reaper = setInterval(() => {
    const now = performance.now();
    states.forEach((state, s) => {
      for (let id = 0; id < 256; id++) {
        const sentAt = state.sentAt[id]!;
        if (sentAt >= 0 && now - sentAt > 1000) {
          state.sentAt[id] = -1;
          if (measuring) lost += 1;
          sendNext(s);
        }
      }
    });
  }, 200);
  for (let s = 0; s < options.sockets; s++) for (let i = 0; i < options.outstandingPerSocket; i++) sendNext(s);
  await new Promise((resolve) => setTimeout(resolve, options.warmupMs));
  measuring = true;
  process.stderr.write(`measure-start ${Date.now()}\n`);
  const cpuAtStart = process.cpuUsage();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, options.durationMs));
  measuring = false;
  const elapsed = performance.now() - started;
  const cpu = process.cpuUsage(cpuAtStart);
  process.stderr.write(`measure-end generator-cpu=${(((cpu.user + cpu.system) / 1000 / elapsed) * 100).toFixed(0)}%\n`);
  clearInterval(reaper);
  for (const socket of sockets) socket.close();
  const sorted = latencies.subarray(0, samples).sort();
  const percentile = (p: number): number =>
    samples === 0 ? NaN : sorted[Math.min(samples - 1, Math.floor(samples * p))]!;
  return {
    scenario: options.scenario,
    requestsPerSecond: (completed * 1000) / elapsed,
    p50Ms: percentile(0.5),
    p99Ms: percentile(0.99),
    completed,
    lost,
    wrapped,
  };
}

if (process.argv[2] === '--run') {
  const options = JSON.parse(process.argv[3]!) as LoadOptions;
  const result = await runLoad(options);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
