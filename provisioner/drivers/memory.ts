import { systemClock, type Clock } from '../../shared/clock.js';
import { TurnpikeError } from '../../shared/errors.js';
import type {
  AccountDriver,
  AccountSpec,
  AccountState,
  AccountUsage,
  ClientEntry,
  ClientRef,
  ClientRule,
  FirewallDriver,
  FirewallState,
  WalledGarden,
} from './driver.js';

/**
 * The same semantics as the host drivers, held in memory: the embedded default
 * and the gRPC layer's tests use it. Entries lapse on the clock like nft
 * element timeouts do.
 */
export class MemoryFirewallDriver implements FirewallDriver {
  readonly #clients = new Map<string, ClientRule & { expiresAt: number; packets: number; bytes: number }>();
  #garden: WalledGarden = { domains: [], cidrs: [] };
  readonly #clock: Clock;

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  async start(): Promise<void> {}

  async allow(rule: ClientRule): Promise<void> {
    const previous = this.#live().get(rule.ip);
    this.#clients.set(rule.ip, {
      ...rule,
      expiresAt: this.#clock.now() + rule.seconds * 1000,
      packets: previous?.packets ?? 0,
      bytes: previous?.bytes ?? 0,
    });
  }

  async revoke(ref: ClientRef): Promise<void> {
    this.#clients.delete(ref.ip);
  }

  async list(): Promise<ClientEntry[]> {
    const now = this.#clock.now();
    return [...this.#live().values()].map((c) => ({
      ip: c.ip,
      mac: c.mac,
      sessionId: c.sessionId,
      upKbps: c.upKbps,
      downKbps: c.downKbps,
      remainingSeconds: Math.ceil((c.expiresAt - now) / 1000),
      packets: c.packets,
      bytes: c.bytes,
    }));
  }

  async setWalledGarden(garden: WalledGarden): Promise<void> {
    this.#garden = { domains: [...garden.domains], cidrs: [...garden.cidrs] };
  }

  async state(): Promise<FirewallState> {
    return { clients: await this.list(), walledGarden: { ...this.#garden } };
  }

  async close(): Promise<void> {}

  /** Test hook standing in for traffic: adds to a client's counters. */
  recordTraffic(ip: string, packets: number, bytes: number): void {
    const c = this.#live().get(ip);
    if (c) Object.assign(c, { packets: c.packets + packets, bytes: c.bytes + bytes });
  }

  #live(): Map<string, ClientRule & { expiresAt: number; packets: number; bytes: number }> {
    const now = this.#clock.now();
    for (const [ip, c] of this.#clients) if (c.expiresAt <= now) this.#clients.delete(ip);
    return this.#clients;
  }
}

interface MemoryAccount {
  spec: AccountSpec;
  suspended: boolean;
  owned: boolean;
  sshLogins: number;
  ftpBytesStored: number;
}

/**
 * Accounts in memory. `foreignLogins` stands for users that exist on the host
 * but were not created by the provisioner (root and friends): every operation
 * on them is refused with FORBIDDEN and changes nothing.
 */
export class MemoryAccountDriver implements AccountDriver {
  readonly #accounts = new Map<string, MemoryAccount>();

  constructor(options: { foreignLogins?: string[] } = {}) {
    for (const login of options.foreignLogins ?? ['root']) {
      this.#accounts.set(login, {
        spec: { login, passwordHash: '', authorizedKeys: [], services: ['ssh'], expiresAt: 0, ftpQuotaBytes: 0 },
        suspended: false,
        owned: false,
        sshLogins: 0,
        ftpBytesStored: 0,
      });
    }
  }

  async ensure(spec: AccountSpec): Promise<void> {
    const existing = this.#owned(spec.login);
    this.#accounts.set(spec.login, {
      spec: { ...spec, authorizedKeys: [...spec.authorizedKeys], services: [...spec.services] },
      suspended: false,
      owned: true,
      sshLogins: existing?.sshLogins ?? 0,
      ftpBytesStored: existing?.ftpBytesStored ?? 0,
    });
  }

  async suspend(login: string): Promise<void> {
    const account = this.#owned(login);
    if (account) account.suspended = true;
  }

  async delete(login: string): Promise<void> {
    if (this.#owned(login)) this.#accounts.delete(login);
  }

  async usage(login: string): Promise<AccountUsage> {
    const account = this.#owned(login);
    if (!account) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no account ${login}`);
    return { login, ftpBytesStored: account.ftpBytesStored, sshLogins: account.sshLogins };
  }

  async state(): Promise<AccountState[]> {
    return [...this.#accounts.values()]
      .filter((a) => a.owned)
      .map((a) => ({
        login: a.spec.login,
        services: [...a.spec.services],
        suspended: a.suspended,
        expiresAt: a.spec.expiresAt,
        ftpQuotaBytes: a.spec.ftpQuotaBytes,
      }));
  }

  /** Test view of one account, owned or not. */
  peek(login: string): { spec: AccountSpec; suspended: boolean; owned: boolean } | undefined {
    const a = this.#accounts.get(login);
    return a && { spec: a.spec, suspended: a.suspended, owned: a.owned };
  }

  #owned(login: string): MemoryAccount | undefined {
    const account = this.#accounts.get(login);
    if (account && !account.owned) throw new TurnpikeError('TP_ERR_FORBIDDEN', `account ${login} is not ours`);
    return account;
  }
}
