import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { chapDigest } from '../appliance/credentials/chap.js';
import { encryptUserPassword } from './protocol/authenticators.js';
import { Attr, Code } from './protocol/constants.js';
import { buildPacket, integerTlv, textTlv, tlv, type EncodedAttribute } from './protocol/encode.js';

/** Builds requests the way a NAS would, for fixtures, the fuzz test and the benchmark. */
export function accessRequest(options: {
  identifier: number;
  secret: Buffer;
  userName: string;
  password?: string;
  chapPassword?: string;
  chapChallenge?: Buffer;
  callingStationId?: string;
  extra?: EncodedAttribute[];
  messageAuthenticator?: boolean;
  authenticator?: Buffer;
}): Buffer {
  const authenticator = options.authenticator ?? randomBytes(16);
  const attributes: EncodedAttribute[] = [textTlv(Attr.UserName, options.userName)];
  if (options.password !== undefined) {
    attributes.push(
      tlv(Attr.UserPassword, encryptUserPassword(Buffer.from(options.password), authenticator, options.secret)),
    );
  }
  if (options.chapPassword !== undefined) {
    const challenge = options.chapChallenge ?? authenticator;
    if (options.chapChallenge) attributes.push(tlv(Attr.ChapChallenge, options.chapChallenge));
    attributes.push(
      tlv(
        Attr.ChapPassword,
        Buffer.concat([
          Buffer.from([options.identifier & 0xff]),
          chapDigest(options.identifier, options.chapPassword, challenge),
        ]),
      ),
    );
  }
  if (options.callingStationId) attributes.push(textTlv(Attr.CallingStationId, options.callingStationId));
  attributes.push(...(options.extra ?? []));
  return buildPacket({
    code: Code.AccessRequest,
    identifier: options.identifier,
    authenticator,
    attributes,
    secret: options.secret,
    messageAuthenticator: options.messageAuthenticator ?? true,
  });
}

export function accountingRequest(options: {
  identifier: number;
  secret: Buffer;
  status: number;
  sessionId: string;
  subscriptionId?: string;
  inputOctets?: number;
  outputOctets?: number;
  extra?: EncodedAttribute[];
}): Buffer {
  const attributes: EncodedAttribute[] = [
    integerTlv(Attr.AcctStatusType, options.status),
    textTlv(Attr.AcctSessionId, options.sessionId),
  ];
  if (options.subscriptionId) attributes.push(textTlv(Attr.Class, `tp1:${options.subscriptionId}`));
  const split = (value: number): [number, number] => [value % 2 ** 32, Math.floor(value / 2 ** 32)];
  if (options.inputOctets !== undefined) {
    const [low, high] = split(options.inputOctets);
    attributes.push(integerTlv(Attr.AcctInputOctets, low), integerTlv(Attr.AcctInputGigawords, high));
  }
  if (options.outputOctets !== undefined) {
    const [low, high] = split(options.outputOctets);
    attributes.push(integerTlv(Attr.AcctOutputOctets, low), integerTlv(Attr.AcctOutputGigawords, high));
  }
  attributes.push(...(options.extra ?? []));
  return buildPacket({
    code: Code.AccountingRequest,
    identifier: options.identifier,
    authenticator: null,
    attributes,
    secret: options.secret,
    messageAuthenticator: false,
  });
}

export function statusServer(identifier: number, secret: Buffer): Buffer {
  return buildPacket({
    code: Code.StatusServer,
    identifier,
    authenticator: randomBytes(16),
    attributes: [],
    secret,
    messageAuthenticator: true,
  });
}

/** A UDP client that collects every reply it gets. */
export class TestClient {
  readonly socket: Socket;
  readonly replies: Buffer[] = [];
  #waiters: Array<(reply: Buffer) => void> = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('message', (message) => {
      this.replies.push(message);
      const waiter = this.#waiters.shift();
      waiter?.(message);
    });
  }

  static async open(type: 'udp4' | 'udp6' = 'udp4'): Promise<TestClient> {
    const socket = createSocket(type);
    await new Promise<void>((resolve) => socket.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', resolve));
    return new TestClient(socket);
  }

  send(packet: Buffer, port: number, address = '127.0.0.1'): void {
    this.socket.send(packet, port, address);
  }

  /** Sends and waits for the next reply, or null after `timeoutMs`. */
  async exchange(packet: Buffer, port: number, timeoutMs = 500, address = '127.0.0.1'): Promise<Buffer | null> {
    return new Promise((resolve) => {
      const waiter = (reply: Buffer): void => {
        clearTimeout(timer);
        resolve(reply);
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((candidate) => candidate !== waiter);
        resolve(null);
      }, timeoutMs);
      this.#waiters.push(waiter);
      this.send(packet, port, address);
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
