import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { AccountService, type GetStateResponse } from '../../proto/gen/turnpike/provisioner/v1/provisioner.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import type { Config } from '../config/schema.js';
import type { Db } from '../domain/model.js';
import type { Logger } from '../../shared/logger.js';
import { desiredAccounts, desiredClients, type DesiredAccount } from './desired-state.js';
import type { ProvisionerRouter, ProvisionerTarget } from './provisioner-router.js';

export interface ReconcileReport {
  site: string;
  reachable: boolean;
  allowed: number;
  revoked: number;
  gardenSet: boolean;
  ensured: number;
  suspended: number;
  deleted: number;
  /** Calls that failed; the next round tries again. */
  failures: number;
}

export interface ReconcilerOptions {
  store: { readonly db: Readonly<Db> };
  router: ProvisionerRouter;
  config: Pick<Config, 'provisioner' | 'gateway'>;
  logger: Logger;
  clock?: Clock;
  /** Calls in flight per provisioner during a round. */
  concurrency?: number;
}

type Job = () => Promise<void>;

/** Runs jobs with at most `width` in flight, so a gateway that lost 10,000 entries is refilled steadily. */
async function runPool(jobs: readonly Job[], width: number): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length) await jobs[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, lane));
}

const SERVICE_ENUM = { ssh: AccountService.ACCOUNT_SERVICE_SSH, ftp: AccountService.ACCOUNT_SERVICE_FTP } as const;

/** The whole spec, key lines included: GetState reports no keys or hash, so only this notices their change. */
function fingerprint(a: DesiredAccount): string {
  return createHash('sha256').update(JSON.stringify(a)).digest('hex');
}

/** Config lists addresses, CIDRs and host names in one array; the contract wants them apart. */
function splitGarden(entries: readonly string[]): { domains: string[]; cidrs: string[] } {
  const isCidr = (e: string): boolean => isIP(e.split('/')[0] ?? '') !== 0;
  const cidrs = entries.filter(isCidr).map((c) => c.replace(/\/(32|128)$/, '').toLowerCase());
  const domains = entries.filter((e) => !isCidr(e)).map((d) => d.toLowerCase().replace(/\.$/, ''));
  return { domains: [...new Set(domains)].sort(), cidrs: [...new Set(cidrs)].sort() };
}

/**
 * Converges every provisioner on the store's desired state, on start and every
 * `provisioner.reconcileIntervalSeconds`: missing entries are re-added, stale
 * ones refreshed, orphans removed. Each correction is one idempotent call whose
 * failure is counted and retried next round — no outcome hangs on one RPC.
 */
export class ProvisioningReconciler {
  readonly #o: ReconcilerOptions;
  readonly #clock: Clock;
  /** Per site and login, the spec last ensured: a changed password or plan triggers a new ensure. */
  readonly #ensured = new Map<string, string>();
  readonly #listeners: Array<(report: ReconcileReport) => void> = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<ReconcileReport[]> | undefined;
  #stopped = false;

  constructor(o: ReconcilerOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
  }

  /** Hears every target's report after each round (metrics: drift corrected, reachability). */
  onReport(listener: (report: ReconcileReport) => void): void {
    this.#listeners.push(listener);
  }

  /** Runs a round now and then every interval; rounds never overlap. */
  start(): void {
    this.#stopped = false;
    this.kick();
  }

  /** Asks for a round as soon as the current one (if any) ends; e.g. after a subscription changed. */
  kick(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#round(), 0);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  async #round(): Promise<void> {
    try {
      await this.reconcileOnce();
    } catch (err) {
      this.#o.logger.error({ err }, 'reconcile round failed');
    }
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#round(), this.#o.config.provisioner.reconcileIntervalSeconds * 1000);
    this.#timer.unref();
  }

  /** One round over every target; resolves with what it did. */
  async reconcileOnce(): Promise<ReconcileReport[]> {
    while (this.#running) await this.#running.catch(() => undefined);
    this.#running = this.#reconcileAll();
    try {
      return await this.#running;
    } finally {
      this.#running = undefined;
    }
  }

  async #reconcileAll(): Promise<ReconcileReport[]> {
    const reports = await Promise.all(this.#o.router.all().map((t) => this.#reconcileTarget(t)));
    for (const r of reports) {
      const changed = r.allowed + r.revoked + r.ensured + r.suspended + r.deleted + (r.gardenSet ? 1 : 0);
      if (changed > 0 || r.failures > 0 || !r.reachable) this.#o.logger.info(r, 'provisioner reconciled');
      for (const listener of this.#listeners) listener(r);
    }
    return reports;
  }

  async #reconcileTarget(target: ProvisionerTarget): Promise<ReconcileReport> {
    const report: ReconcileReport = {
      site: target.site,
      reachable: true,
      allowed: 0,
      revoked: 0,
      gardenSet: false,
      ensured: 0,
      suspended: 0,
      deleted: 0,
      failures: 0,
    };
    let state: GetStateResponse;
    try {
      state = await target.client.getState();
    } catch (err) {
      this.#o.logger.warn(
        { site: target.site, err: (err as Error).message },
        'provisioner unreachable; retrying next round',
      );
      return { ...report, reachable: false, failures: 1 };
    }
    // Desired state is read AFTER the provisioner's: a session the portal created
    // (and allowed) while GetState was in flight is then never taken for an orphan.
    const now = this.#clock.now();
    const db = this.#o.store.db;
    const clients = desiredClients(db, now, { openEndedSeconds: this.#o.config.gateway.openEndedSessionSeconds });
    const accounts = desiredAccounts(db, now, { ftpQuotaBytes: this.#o.config.provisioner.ftpQuotaBytes });
    const attempt = async (
      what: keyof ReconcileReport,
      call: () => Promise<unknown>,
      detail: object,
    ): Promise<void> => {
      try {
        await call();
        if (what === 'gardenSet') report.gardenSet = true;
        else (report[what] as number) += 1;
      } catch (err) {
        report.failures += 1;
        this.#o.logger.warn(
          { site: target.site, what, ...detail, err: (err as Error).message },
          'reconcile call failed',
        );
      }
    };
    const jobs: Job[] = [];

    // Guests: this site's share of the desired clients.
    const mine = new Map([...clients].filter(([ip]) => this.#routesTo(ip, target)));
    const tolerance = this.#o.config.provisioner.reconcileIntervalSeconds + 30;
    for (const actual of state.clients) {
      if (!mine.has(actual.ip)) {
        jobs.push(() => attempt('revoked', () => target.client.revokeClient(actual), { ip: actual.ip }));
      }
    }
    const actualByIp = new Map(state.clients.map((c) => [c.ip, c]));
    for (const want of mine.values()) {
      const have = actualByIp.get(want.ip);
      const stale =
        !have ||
        have.sessionId !== want.sessionId ||
        have.mac !== want.mac ||
        have.upKbps !== want.upKbps ||
        have.downKbps !== want.downKbps ||
        Math.abs(have.remainingSeconds - want.seconds) > tolerance;
      if (stale) jobs.push(() => attempt('allowed', () => target.client.allowClient(want), { ip: want.ip }));
    }

    if (this.#o.config.gateway.enabled) {
      const garden = splitGarden(this.#o.config.gateway.walledGarden);
      const same =
        JSON.stringify(garden.domains) === JSON.stringify([...state.walledGardenDomains].sort()) &&
        JSON.stringify(garden.cidrs) === JSON.stringify([...state.walledGardenCidrs].sort());
      if (!same) jobs.push(() => attempt('gardenSet', () => target.client.setWalledGarden(garden), {}));
    }

    if (target.accounts) this.#reconcileAccounts(target, state, accounts, jobs, attempt);
    await runPool(jobs, this.#o.concurrency ?? 8);
    return report;
  }

  #reconcileAccounts(
    target: ProvisionerTarget,
    state: GetStateResponse,
    accounts: Map<string, DesiredAccount>,
    jobs: Job[],
    attempt: (what: keyof ReconcileReport, call: () => Promise<unknown>, detail: object) => Promise<void>,
  ): void {
    const actual = new Map(state.accounts.map((a) => [a.login, a]));
    for (const have of state.accounts) {
      if (!accounts.has(have.login)) {
        this.#ensured.delete(`${target.site}|${have.login}`);
        jobs.push(() => attempt('deleted', () => target.client.deleteAccount(have.login), { login: have.login }));
      }
    }
    for (const want of accounts.values()) {
      const have = actual.get(want.login);
      const key = `${target.site}|${want.login}`;
      if (want.status === 'suspended') {
        if (have && !have.suspended) {
          this.#ensured.delete(key);
          jobs.push(() => attempt('suspended', () => target.client.suspendAccount(want.login), { login: want.login }));
        }
        continue;
      }
      const services = want.services.map((s) => SERVICE_ENUM[s]);
      const print = fingerprint(want);
      const drifted =
        !have ||
        have.suspended ||
        have.expiresAt !== want.expiresAt ||
        have.ftpQuotaBytes !== want.ftpQuotaBytes ||
        JSON.stringify([...have.services].sort()) !== JSON.stringify([...services].sort()) ||
        this.#ensured.get(key) !== print;
      if (!drifted) continue;
      jobs.push(() =>
        attempt(
          'ensured',
          async () => {
            await target.client.ensureAccount({
              login: want.login,
              passwordHash: want.passwordHash,
              authorizedKeys: want.authorizedKeys,
              services,
              expiresAt: want.expiresAt,
              ftpQuotaBytes: want.ftpQuotaBytes,
            });
            this.#ensured.set(key, print);
          },
          { login: want.login },
        ),
      );
    }
  }

  #routesTo(ip: string, target: ProvisionerTarget): boolean {
    try {
      return this.#o.router.forClient(ip) === target;
    } catch {
      return false;
    }
  }
}
