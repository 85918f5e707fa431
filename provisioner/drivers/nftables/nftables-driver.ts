import { lookup } from 'node:dns/promises';
import { systemClock, type Clock } from '../../../shared/clock.js';
import { TurnpikeError } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/logger.js';
import { withoutNested } from '../../validation.js';
import type { ClientEntry, ClientRef, ClientRule, FirewallDriver, FirewallState, WalledGarden } from '../driver.js';
import { ListingParser, type SetElement } from './listing-parser.js';
import { NftRunner } from './nft-runner.js';
import { NftRefusal } from './nft-session.js';
import {
  TABLE,
  allowScript,
  baseRuleset,
  createScript,
  deleteScript,
  decodeComment,
  gardenScript,
  removeLimitsScript,
  revokeScript,
  type RulesetOptions,
} from './ruleset.js';

export interface NftablesDriverOptions extends RulesetOptions {
  logger: Logger;
  /** Wrapper in front of `nft`, e.g. `['ip', 'netns', 'exec', 'gw']`. */
  commandPrefix?: readonly string[];
  /** How often walled-garden domains are re-resolved and lapsed limit objects removed. */
  refreshSeconds?: number;
  /** Resolves a walled-garden domain to addresses; defaults to the system resolver. */
  resolve?: (domain: string) => Promise<string[]>;
  clock?: Clock;
  /**
   * `list()` answers from the driver's own view, which follows the driver's
   * changes at once; counters, and elements someone else added or removed,
   * are as of the last kernel read. A list that finds that read older than
   * this starts a new one behind its answer (the next list has it). Reading
   * ten thousand counters costs nft ~100 ms of CPU, too long to make a caller
   * wait for.
   */
  listMaxAgeMs?: number;
  /** A list that finds the last kernel read older than this waits for a new one (a view nobody asked for in a while). */
  listStaleMs?: number;
  /** An nft answer slower than this ends the session, which is then restarted. */
  nftTimeoutMs?: number;
}

interface Known {
  mac: string;
  sessionId: string;
  upKbps: number;
  downKbps: number;
  /** Null for an element without a timeout (only someone else's hand puts one there). */
  expiresAt: number | null;
  packets: number;
  bytes: number;
}

/** Elements of a kernel read turned into view entries between two pauses for other work. */
const READ_SLICE = 1_000;

function remember(known: Map<string, Known>, byMac: Map<string, Set<string>>, ip: string, entry: Known): void {
  known.set(ip, entry);
  const ips = byMac.get(entry.mac) ?? new Set<string>();
  ips.add(ip);
  byMac.set(entry.mac, ips);
}

function forget(known: Map<string, Known>, byMac: Map<string, Set<string>>, ip: string): void {
  const old = known.get(ip);
  if (!old) return;
  known.delete(ip);
  const ips = byMac.get(old.mac);
  ips?.delete(ip);
  if (ips?.size === 0) byMac.delete(old.mac);
}

async function systemResolve(domain: string): Promise<string[]> {
  return (await lookup(domain, { all: true })).map((a) => a.address);
}

/**
 * Gateway enforcement in `table inet turnpike` (layout in ruleset.ts), through
 * long-lived nft sessions (nft-runner.ts). The kernel holds the truth: entries
 * lapse by element timeout while the daemon is down, and a read (`nft -j list`)
 * replaces the driver's view. Between reads the view follows the driver's own
 * changes; it decides whether a refresh must carry counters over, whether a MAC
 * is still used by another address, and answers `list()` (re-read behind the
 * answer past `listMaxAgeMs`, before it past `listStaleMs`).
 */
export class NftablesDriver implements FirewallDriver {
  readonly #o: NftablesDriverOptions;
  readonly #nft: NftRunner;
  readonly #listings = new ListingParser();
  readonly #clock: Clock;
  readonly #resolve: (domain: string) => Promise<string[]>;
  #known = new Map<string, Known>();
  /** The addresses each MAC is known at: a change looks at its MAC's few entries, not at all of them. */
  #byMac = new Map<string, Set<string>>();
  /** When the kernel read that `#known` comes from began. */
  #readAt = -Infinity;
  #reading: Promise<void> | undefined;
  /** Changes committed while a read is under way; the read must not undo them. */
  #changedDuringRead: Map<string, Known | null> | undefined;
  #garden: WalledGarden | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: NftablesDriverOptions) {
    this.#o = options;
    this.#nft = new NftRunner({
      commandPrefix: options.commandPrefix ?? [],
      ...(options.nftTimeoutMs ? { timeoutMs: options.nftTimeoutMs } : {}),
    });
    this.#clock = options.clock ?? systemClock;
    this.#resolve = options.resolve ?? systemResolve;
  }

  async start(): Promise<void> {
    await this.#nft.script(baseRuleset(this.#o));
    await this.#refresh();
    const refresh = (this.#o.refreshSeconds ?? 300) * 1000;
    this.#timer = setInterval(() => void this.#housekeeping(), refresh);
    this.#timer.unref();
  }

  async allow(rule: ClientRule): Promise<void> {
    const now = this.#clock.now();
    const previous = this.#get(rule.ip, now);
    const { mac, sessionId, upKbps, downKbps } = rule;
    const entry = { mac, sessionId, upKbps, downKbps, expiresAt: now + rule.seconds * 1000 };
    let believedAbsent = false;
    if (!previous && !this.#macShared(rule.mac, rule.ip)) {
      try {
        await this.#nft.batch(createScript(rule));
        this.#record(rule.ip, { ...entry, packets: 0, bytes: 0 });
        return;
      } catch (err) {
        if (!(err instanceof NftRefusal)) throw err;
        believedAbsent = true; // the kernel knew better (or refuses the value): the long way says which
      }
    }
    const counters = previous || believedAbsent ? await this.#counters(rule.ip) : { packets: 0, bytes: 0 };
    let macSeconds = rule.seconds;
    for (const ip of this.#byMac.get(rule.mac) ?? []) {
      const k = ip === rule.ip ? undefined : this.#get(ip, now);
      if (k?.expiresAt) macSeconds = Math.max(macSeconds, Math.ceil((k.expiresAt - now) / 1000));
    }
    const staleMac =
      previous && previous.mac !== rule.mac && !this.#macShared(previous.mac, rule.ip) ? previous.mac : undefined;
    await this.#change(
      rule.ip,
      allowScript({ ...rule, macSeconds, ...counters, ...(staleMac ? { staleMac } : {}) }),
      `client ${rule.ip} (MAC ${rule.mac}, session ${rule.sessionId})`,
    );
    this.#record(rule.ip, { ...entry, ...counters });
  }

  async revoke(ref: ClientRef): Promise<void> {
    const known = this.#get(ref.ip, this.#clock.now());
    const mac = known?.mac ?? ref.mac;
    const dropMac = mac !== '' && !this.#macShared(mac, ref.ip);
    if (known) {
      try {
        await this.#nft.batch(deleteScript(ref.ip, known, dropMac ? mac : undefined));
        this.#record(ref.ip, null);
        return;
      } catch (err) {
        if (!(err instanceof NftRefusal)) throw err; // not as believed: the long way removes whatever is there
      }
    }
    await this.#change(
      ref.ip,
      revokeScript(ref.ip, dropMac ? mac : undefined),
      `client ${ref.ip} (MAC ${mac || 'unknown'}, session ${ref.sessionId})`,
    );
    this.#record(ref.ip, null);
  }

  async list(): Promise<ClientEntry[]> {
    const age = this.#clock.now() - this.#readAt;
    if (age > (this.#o.listMaxAgeMs ?? 1000)) {
      const read = this.#refresh();
      if (age > (this.#o.listStaleMs ?? 30_000)) await read;
      else
        read.catch((err: unknown) =>
          this.#o.logger.warn({ err: (err as Error).message }, 'reading the client sets failed'),
        );
    }
    const now = this.#clock.now();
    const clients: ClientEntry[] = [];
    for (const [ip, k] of this.#known) {
      if (k.expiresAt !== null && k.expiresAt <= now) continue;
      clients.push({
        ip,
        mac: k.mac,
        sessionId: k.sessionId,
        upKbps: k.upKbps,
        downKbps: k.downKbps,
        remainingSeconds: k.expiresAt === null ? 0 : Math.ceil((k.expiresAt - now) / 1000),
        packets: k.packets,
        bytes: k.bytes,
      });
    }
    return clients;
  }

  /** A refused change names the client it was for, and what nft pointed at. */
  async #change(ip: string, script: string, who: string): Promise<void> {
    try {
      await this.#nft.batch(script);
    } catch (err) {
      if (!(err instanceof NftRefusal)) throw err;
      throw new TurnpikeError('TP_ERR_VALIDATION', `nft refused ${who}: ${err.message}`, { ip });
    }
  }

  #record(ip: string, entry: Known | null): void {
    this.#forget(ip);
    if (entry) this.#remember(ip, entry);
    this.#changedDuringRead?.set(ip, entry);
  }

  /** Reads both address sets; concurrent callers share one read. */
  #refresh(): Promise<void> {
    this.#reading ??= this.#readKernel().finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  async #readKernel(): Promise<void> {
    const started = this.#clock.now();
    const changed = new Map<string, Known | null>();
    this.#changedDuringRead = changed;
    try {
      const sets = await Promise.all([this.#elements('allowed_v4'), this.#elements('allowed_v6')]);
      // The new view is built aside, a slice at a time, so changes and calls go on meanwhile.
      const known = new Map<string, Known>();
      const byMac = new Map<string, Set<string>>();
      let done = 0;
      for (const elem of sets.flat()) {
        const meta = decodeComment(elem.comment);
        remember(known, byMac, elem.val, {
          mac: meta.mac,
          sessionId: meta.sessionId,
          upKbps: meta.upKbps,
          downKbps: meta.downKbps,
          expiresAt: elem.expires > 0 ? started + elem.expires * 1000 : null,
          packets: elem.packets,
          bytes: elem.bytes,
        });
        if (++done % READ_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      // From here on without a pause: what was committed during the read wins over what the read found.
      for (const [ip, k] of changed) {
        forget(known, byMac, ip);
        if (k) remember(known, byMac, ip, k);
      }
      this.#known = known;
      this.#byMac = byMac;
      this.#readAt = started;
    } finally {
      this.#changedDuringRead = undefined;
    }
  }

  async setWalledGarden(garden: WalledGarden): Promise<void> {
    this.#garden = { domains: [...garden.domains], cidrs: withoutNested(garden.cidrs) };
    await this.#applyGarden(this.#garden);
  }

  async state(): Promise<FirewallState> {
    const clients = await this.list();
    return { clients, walledGarden: this.#garden ?? (await this.#readGarden()) };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#nft.close();
    this.#listings.close();
  }

  async #applyGarden(garden: WalledGarden): Promise<void> {
    const resolved: Array<{ domain: string; ip: string }> = [];
    for (const domain of garden.domains) {
      try {
        for (const ip of await this.#resolve(domain)) resolved.push({ domain, ip });
      } catch (err) {
        this.#o.logger.warn({ domain, err: (err as Error).message }, 'walled-garden domain did not resolve');
      }
    }
    await this.#nft.script(gardenScript(garden.cidrs, resolved));
  }

  /** After a restart the garden is known only from the element comments. */
  async #readGarden(): Promise<WalledGarden> {
    const cidrs: string[] = [];
    const domains = new Set<string>();
    for (const set of ['garden_v4', 'garden_v6']) {
      for (const e of await this.#elements(set)) if (e.comment) cidrs.push(e.comment);
    }
    for (const set of ['garden_dns_v4', 'garden_dns_v6']) {
      for (const e of await this.#elements(set)) if (e.comment) domains.add(e.comment);
    }
    this.#garden = { domains: [...domains].sort(), cidrs: cidrs.sort() };
    return this.#garden;
  }

  async #housekeeping(): Promise<void> {
    try {
      const garden = this.#garden ?? (await this.#readGarden());
      if (garden.domains.length > 0) await this.#applyGarden(garden);
      const live = new Set((await this.list()).map((c) => c.ip.replace(/[.:]/g, '_')));
      const limits = (await this.#nft.json(['list', 'limits', 'table', ...TABLE.split(' ')]))
        .map((o) => (o.limit as { name?: string } | undefined)?.name ?? '')
        .filter((name) => /^(up|down)_/.test(name) && !live.has(name.replace(/^(up|down)_/, '')));
      if (limits.length > 0) await this.#nft.script(removeLimitsScript(limits));
    } catch (err) {
      this.#o.logger.error({ err: (err as Error).message }, 'nftables housekeeping failed');
    }
  }

  #remember(ip: string, entry: Known): void {
    remember(this.#known, this.#byMac, ip, entry);
  }

  #forget(ip: string): void {
    forget(this.#known, this.#byMac, ip);
  }

  /** The live entry at `ip`; a lapsed one is dropped (the kernel has dropped it too). */
  #get(ip: string, now: number): Known | undefined {
    const k = this.#known.get(ip);
    if (k !== undefined && k.expiresAt !== null && k.expiresAt <= now) {
      this.#forget(ip);
      return undefined;
    }
    return k;
  }

  #macShared(mac: string, exceptIp: string): boolean {
    const now = this.#clock.now();
    for (const ip of [...(this.#byMac.get(mac) ?? [])]) if (ip !== exceptIp && this.#get(ip, now)) return true;
    return false;
  }

  async #counters(ip: string): Promise<{ packets: number; bytes: number }> {
    const set = ip.includes(':') ? 'allowed_v6' : 'allowed_v4';
    try {
      // nft 1.0.6 prints `get element` as text even with -j; newer ones may answer in JSON.
      const text = await this.#nft.run(['get', 'element', ...TABLE.split(' '), set, `{ ${ip} }`]);
      const m = /packets"?:? (\d+),? "?bytes"?:? (\d+)/.exec(text);
      return { packets: Number(m?.[1] ?? 0), bytes: Number(m?.[2] ?? 0) };
    } catch {
      return { packets: 0, bytes: 0 };
    }
  }

  /** A set's elements; the listing is parsed off the event loop (listing-parser.ts). */
  async #elements(set: string): Promise<SetElement[]> {
    return this.#listings.parse(await this.#nft.run(['list', 'set', ...TABLE.split(' '), set]));
  }
}
