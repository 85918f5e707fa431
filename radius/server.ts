import { createSocket, type RemoteInfo, type Socket, type SocketOptions } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import { ROOT_CONTEXT, context, trace } from '@opentelemetry/api';
import type { Clock } from '../shared/clock.js';
import type { Config } from '../appliance/config/schema.js';
import type { Logger } from '../shared/logger.js';
import type { AccessPolicy } from '../appliance/sessions/access-policy.js';
import type { NasObservations } from '../appliance/nas/nas-observations.js';
import type { SessionEnforcer } from '../appliance/sessions/enforcer.js';
import type { Store } from '../appliance/store/store.js';
import { handleAccessRequest, type AccessOutcome } from './access-handler.js';
import { handleAccountingRequest } from './accounting-handler.js';
import { ClientTable, type KnownClient } from './client-table.js';
import { compileDialects, type CompiledDialect } from './dialects.js';
import { DropLog } from './drop-log.js';
import { DuplicateCache, type PendingRequest } from './duplicate-cache.js';
import { verifyMessageAuthenticator, verifyRequestAuthenticator } from './protocol/authenticators.js';
import { Attr, Code } from './protocol/constants.js';
import { buildPacket, type EncodedAttribute } from './protocol/encode.js';
import { parseFrame, type Frame } from './protocol/framing.js';
import type { RadiusMetrics } from './radius-metrics.js';
import { beginRequest, endRequest, failRequest, type RequestTelemetry } from './request-telemetry.js';

export interface RadiusServerOptions {
  config: Config['radius'];
  store: Store;
  clock: Clock;
  logger: Logger;
  policy: AccessPolicy;
  /** Acts on quota crossings and ended plans seen in accounting; omit to only record. */
  enforcer?: SessionEnforcer;
  /** Prometheus instruments; omitted in tests that only read `stats`. */
  metrics?: RadiusMetrics;
  /** Per-NAS trust observations (last seen, interim gaps, Message-Authenticator), flushed by a job. */
  observations?: NasObservations;
}

export interface RadiusStats {
  received: number;
  accessAccepts: number;
  accessRejects: number;
  accountingResponses: number;
  statusServer: number;
  duplicates: number;
  errors: number;
  dropped: Record<string, number>;
  /** Sessions a cap closed (`device-limit`) or kept from opening (`nas-limit`), by cap. */
  sessionsCapped: Record<string, number>;
}

export interface RadiusServer {
  authPort: number;
  acctPort: number;
  stats: RadiusStats;
  /** The address a NAS last sent from: where CoA goes when its source is a CIDR. */
  lastAddressOf(nasId: string): string | null;
  close(): Promise<void>;
}

type Port = 'auth' | 'acct';

const ACCEPTED_CODES: Record<Port, readonly number[]> = {
  auth: [Code.AccessRequest, Code.StatusServer],
  acct: [Code.AccountingRequest, Code.StatusServer],
};

interface Reply {
  code: number;
  attributes: EncodedAttribute[];
  delayMs: number;
  /** Why an Access-Reject (a TP_ERR_* code); null otherwise. */
  reason: string | null;
}

/**
 * Every reply goes to `rinfo.address`, always a literal, yet the default `dns.lookup` defers even
 * a literal to the next tick before sending; answering literals at once removed that detour from
 * each reply. A name (a `listen` entry such as localhost) still goes through `dns.lookup`.
 */
const lookupLiteral: NonNullable<SocketOptions['lookup']> = (hostname, options, callback) => {
  const family = isIP(hostname);
  if (family === 0) dnsLookup(hostname, options, callback);
  else callback(null, hostname, family);
};

async function bindAll(
  addresses: readonly string[],
  port: number,
  receiveBufferBytes: number,
  logger: Logger,
): Promise<{ sockets: Socket[]; port: number }> {
  const sockets: Socket[] = [];
  let bound = port;
  for (const address of addresses) {
    const v6 = isIPv6(address);
    const socket = createSocket({
      type: v6 ? 'udp6' : 'udp4',
      ipv6Only: v6,
      reuseAddr: false,
      recvBufferSize: receiveBufferBytes,
      lookup: lookupLiteral,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address, port: bound }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', (err) => logger.error({ err, address }, 'RADIUS socket error'));
    bound = socket.address().port;
    sockets.push(socket);
  }
  return { sockets, port: bound };
}

/** Starts the RADIUS authentication and accounting servers on every configured address. */
export async function startRadiusServer(options: RadiusServerOptions): Promise<RadiusServer> {
  const { config, store, clock, logger, policy, enforcer, metrics, observations } = options;
  const dialects: Record<string, CompiledDialect> = compileDialects();
  const clients = new ClientTable<Record<Port, DuplicateCache>>(store, () => ({
    auth: new DuplicateCache(config.duplicateWindowMs),
    acct: new DuplicateCache(config.duplicateWindowMs),
  }));
  const drops = new DropLog(logger);
  const caps = new DropLog(
    logger,
    10_000,
    'live session capped: a Start beyond the device limit closed the oldest, or the NAS is full',
  );
  const lastAddress = new Map<string, string>();
  const stats: RadiusStats = {
    received: 0,
    accessAccepts: 0,
    accessRejects: 0,
    accountingResponses: 0,
    statusServer: 0,
    duplicates: 0,
    errors: 0,
    dropped: drops.counts,
    sessionsCapped: caps.counts,
  };
  metrics?.attach(stats);
  const timers = new Set<NodeJS.Timeout>();

  // No per-packet callback: a send failure surfaces as the socket's 'error' event, logged there.
  let closed = false;
  const send = (socket: Socket, packet: Buffer, rinfo: RemoteInfo): void => {
    // A request still being recorded when the server closes gets no reply; the NAS retransmits.
    if (!closed) socket.send(packet, rinfo.port, rinfo.address);
  };

  const authenticate = (port: Port, frame: Frame, client: KnownClient): string | null => {
    const hasMa = frame.messageAuthenticatorOffset >= 0;
    if (hasMa && !verifyMessageAuthenticator(frame, client.secret)) return 'bad-message-authenticator';
    if (frame.code === Code.StatusServer) return hasMa ? null : 'missing-message-authenticator';
    if (port === 'acct') return verifyRequestAuthenticator(frame, client.secret) ? null : 'bad-request-authenticator';
    if (
      !hasMa &&
      (client.nas.requireMessageAuthenticator || frame.attributes.some((a) => a.type === Attr.EapMessage))
    ) {
      return 'missing-message-authenticator';
    }
    // BlastRADIUS forges a reply by prefixing Proxy-State; without Message-Authenticator nothing
    // binds it to the secret, even from a NAS that may omit one (FreeRADIUS's limit_proxy_state).
    if (!hasMa && frame.attributes.some((a) => a.type === Attr.ProxyState))
      return 'proxy-state-without-message-authenticator';
    return null;
  };

  const accessContext = { policy, dialects, interimIntervalSeconds: config.interimIntervalSeconds };
  const accessReply = (outcome: AccessOutcome): Reply => {
    if (outcome.code === Code.AccessAccept) stats.accessAccepts += 1;
    else stats.accessRejects += 1;
    return {
      code: outcome.code,
      attributes: outcome.attributes,
      delayMs: outcome.code === Code.AccessReject ? config.rejectDelayMs : 0,
      reason: outcome.reason,
    };
  };

  /** Synchronous for Status-Server and for logins the policy decides without I/O. */
  const processRequest = (port: Port, frame: Frame, client: KnownClient): Reply | Promise<Reply> => {
    if (frame.code === Code.StatusServer) {
      stats.statusServer += 1;
      return {
        code: port === 'auth' ? Code.AccessAccept : Code.AccountingResponse,
        attributes: [],
        delayMs: 0,
        reason: null,
      };
    }
    if (port === 'auth') {
      observations?.accessRequest(client.nas.id, frame.messageAuthenticatorOffset >= 0, clock.now());
      const outcome = handleAccessRequest(frame, client.nas, client.secret, accessContext);
      return outcome instanceof Promise ? outcome.then(accessReply) : accessReply(outcome);
    }
    const received = metrics ? performance.now() : 0;
    return handleAccountingRequest(frame, client.nas, {
      store,
      clock,
      interimIntervalSeconds: config.interimIntervalSeconds,
      caps: { maxSessionsPerNas: config.maxSessionsPerNas },
    }).then((result) => {
      stats.accountingResponses += 1;
      metrics?.accountingCommitted((performance.now() - received) / 1000);
      if (result) for (const capped of result.capped) caps.drop(capped.cap, capped.nasId, clock.now());
      if (result?.sinceLastUpdateMs !== undefined && result.session)
        observations?.interimGap(
          client.nas.id,
          result.sinceLastUpdateMs / 1000,
          result.session.interimIntervalSeconds,
          clock.now(),
        );
      if (result?.ignoredDisconnect) {
        metrics?.acksButKeepsForwarding(client.nas.name);
        logger.warn(
          { nas: client.nas.name, sessionId: result.ignoredDisconnect.sessionId },
          'the NAS acknowledged a disconnect and kept forwarding; retrying it',
        );
      }
      if (result && result.actions.length > 0 && enforcer) void enforcer.apply(result.actions);
      return { code: Code.AccountingResponse, attributes: [], delayMs: 0, reason: null };
    });
  };

  // Declared once, not per packet: closures made per request cost allocations (and a name helper under tsx).
  function respond(
    port: Port,
    socket: Socket,
    rinfo: RemoteInfo,
    frame: Frame,
    client: KnownClient,
    duplicates: DuplicateCache,
    pending: PendingRequest,
    reply: Reply,
    telemetry: RequestTelemetry | null,
  ): void {
    endRequest(metrics, telemetry, reply.code, reply.reason);
    const attributes = reply.attributes;
    for (const attribute of frame.attributes) {
      if (attribute.type === Attr.ProxyState)
        attributes.push(frame.packet.subarray(attribute.offset, attribute.offset + attribute.length));
    }
    const packet = buildPacket({
      code: reply.code,
      identifier: frame.identifier,
      authenticator: frame.authenticator,
      attributes,
      secret: client.secret,
      messageAuthenticator: port === 'auth' || frame.messageAuthenticatorOffset >= 0,
    });
    if (reply.delayMs <= 0) {
      duplicates.complete(pending, packet);
      send(socket, packet, rinfo);
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      duplicates.complete(pending, packet);
      send(socket, packet, rinfo);
    }, reply.delayMs);
    timers.add(timer);
  }

  function fail(
    client: KnownClient,
    duplicates: DuplicateCache,
    pending: PendingRequest,
    err: unknown,
    telemetry: RequestTelemetry | null,
  ): void {
    // No reply: the NAS retransmits, and the retransmission is processed afresh.
    stats.errors += 1;
    failRequest(metrics, telemetry, err);
    duplicates.complete(pending, null);
    logger.error({ err, nas: client.nas.name }, 'RADIUS request failed');
  }

  const onMessage = (port: Port, socket: Socket, datagram: Buffer, rinfo: RemoteInfo): void => {
    stats.received += 1;
    const now = clock.now();
    const source = clients.lookup(rinfo.address, now);
    if (!source) return drops.drop('unknown-client', rinfo.address, now);
    const frame = parseFrame(datagram);
    if (typeof frame === 'string') return drops.drop(frame, rinfo.address, now);
    if (!ACCEPTED_CODES[port].includes(frame.code))
      return drops.drop(`unexpected-code-${frame.code}`, rinfo.address, now);
    const { client, state } = source;
    const duplicates = state[port];
    const verdict = duplicates.check(rinfo.port, frame.packet, now);
    if (verdict.kind !== 'new') {
      stats.duplicates += 1;
      if (verdict.kind === 'replay') send(socket, verdict.reply, rinfo);
      return;
    }
    const pending = verdict.request;
    const failure = authenticate(port, frame, client);
    if (failure) {
      duplicates.complete(pending, null);
      return drops.drop(failure, rinfo.address, now);
    }
    lastAddress.set(client.nas.id, rinfo.address);
    observations?.seen(client.nas.id, now);
    const type = frame.code === Code.StatusServer ? 'status' : port === 'auth' ? 'access' : 'accounting';
    const telemetry = beginRequest(metrics, type, client.nas.name);
    try {
      // Under the request's span, the store writes and CoA it causes join its trace.
      const reply = telemetry?.span
        ? context.with(trace.setSpan(ROOT_CONTEXT, telemetry.span), () => processRequest(port, frame, client))
        : processRequest(port, frame, client);
      if (reply instanceof Promise) {
        reply.then(
          (settled) => respond(port, socket, rinfo, frame, client, duplicates, pending, settled, telemetry),
          (err: unknown) => fail(client, duplicates, pending, err, telemetry),
        );
      } else {
        respond(port, socket, rinfo, frame, client, duplicates, pending, reply, telemetry);
      }
    } catch (err) {
      fail(client, duplicates, pending, err, telemetry);
    }
  };

  const auth = await bindAll(config.listen, config.authPort, config.receiveBufferBytes, logger);
  const acct = await bindAll(config.listen, config.acctPort, config.receiveBufferBytes, logger).catch(
    async (err: unknown) => {
      for (const socket of auth.sockets) socket.close();
      throw err;
    },
  );
  for (const socket of auth.sockets) socket.on('message', (msg, rinfo) => onMessage('auth', socket, msg, rinfo));
  for (const socket of acct.sockets) socket.on('message', (msg, rinfo) => onMessage('acct', socket, msg, rinfo));
  logger.info({ listen: config.listen, authPort: auth.port, acctPort: acct.port }, 'RADIUS listening');

  return {
    authPort: auth.port,
    acctPort: acct.port,
    stats,
    lastAddressOf: (nasId) => lastAddress.get(nasId) ?? null,
    close: async () => {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      await Promise.all(
        [...auth.sockets, ...acct.sockets].map(
          (socket) => new Promise<void>((resolve) => socket.close(() => resolve())),
        ),
      );
    },
  };
}
