import { chmod, mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock, type Clock } from '../../shared/clock.js';
import { TurnpikeError } from '../../shared/errors.js';
import {
  assertAuthorizedKey,
  assertIntRange,
  assertList,
  assertLogin,
  assertPasswordHash,
  assertServices,
  LOGIN_PATTERN,
  MAX_KEYS,
} from '../validation.js';
import { AuthorizedKeysStore, AUTHORIZED_KEYS_DIR } from './authorized-keys.js';
import type { AccountDriver, AccountService, AccountSpec, AccountState, AccountUsage } from './driver.js';
import { FTP_PATHS, FtpAccess, type FtpPaths } from './ftp.js';
import { HOST_DB_PATHS, HostDb, type HostDbPaths, type PasswdEntry } from './host-db.js';
import { countLogins } from './login-count.js';
import { liveProcessesOf } from './processes.js';
import { runProgram } from './run.js';

/**
 * Real host accounts for guests (`accounts` driver): useradd/usermod/userdel,
 * always with argument vectors. An account is ours only when ALL of these
 * hold: its name carries the prefix, its primary group is the guest group and
 * its uid lies in the guest range. Anything else — root included — is refused
 * before any program runs, so nothing about it changes.
 *
 * What each service means on the host:
 * - ssh: member of the `sshGroup` (systemd/host/sshd-turnpike.conf switches all
 *   authentication off for guests outside it), a login shell, keys in the
 *   root-owned key directory;
 * - ftp: on vsftpd's allow-list with a chroot of its own (see ftp.ts);
 * - suspended: expired (`usermod -e 1`, which PAM's account stage enforces for
 *   passwords AND keys, in sshd and vsftpd alike), nologin shell, password
 *   locked, off the FTP list, every process killed. `ensure` lifts it.
 *
 * The driver's own facts (services, exact expiry, quota, creation time) are
 * kept in the GECOS full-name field, so /etc/passwd alone is the state that
 * `state()` reports after a restart; guests cannot change that field
 * (login.defs CHFN_RESTRICT). Shadow expiry has day granularity, so it is a
 * backstop rounded up to the next midnight; the appliance suspends on time.
 */

export interface HostAccountOptions {
  /** Primary group of every guest account. */
  group?: string;
  /** Supplementary group that sshd lets in. */
  sshGroup?: string;
  uidMin?: number;
  uidMax?: number;
  homeRoot?: string;
  loginShell?: string;
  nologinShell?: string;
  keysDir?: string;
  ftp?: FtpPaths;
  hostDb?: HostDbPaths;
  wtmpFile?: string;
  /** procfs mount, for counting what is left of an account's processes. */
  procDir?: string;
  clock?: Clock;
}

const PREFIX = 'tp-';
const DAY_SECONDS = 86_400;
const GECOS_TAG = 'turnpike-guest';
const KILL_ROUNDS = 10;

interface Meta {
  services: AccountService[];
  expiresAt: number;
  ftpQuotaBytes: number;
  since: number;
  suspended: boolean;
}

function formatMeta(meta: Meta): string {
  const services = meta.services.length > 0 ? meta.services.join('+') : '-';
  const off = meta.suspended ? ' off=1' : '';
  return `${GECOS_TAG} svc=${services} exp=${meta.expiresAt} quota=${meta.ftpQuotaBytes} since=${meta.since}${off}`;
}

/** Reads the driver's facts back; the first GECOS subfield only (chfn may append others). */
export function parseMeta(gecos: string): Meta {
  const fields = new Map<string, string>();
  const [fullName = ''] = gecos.split(',');
  for (const word of fullName.split(' ').slice(1)) {
    const at = word.indexOf('=');
    if (at > 0) fields.set(word.slice(0, at), word.slice(at + 1));
  }
  const num = (key: string): number => {
    const value = Number(fields.get(key) ?? '0');
    return Number.isSafeInteger(value) && value >= 0 ? value : 0;
  };
  const services = (fields.get('svc') ?? '').split('+').filter((s): s is AccountService => s === 'ssh' || s === 'ftp');
  return {
    services,
    expiresAt: num('exp'),
    ftpQuotaBytes: num('quota'),
    since: num('since'),
    suspended: fields.get('off') === '1',
  };
}

export class HostAccountDriver implements AccountDriver {
  readonly #group: string;
  readonly #sshGroup: string;
  readonly #uidMin: number;
  readonly #uidMax: number;
  readonly #homeRoot: string;
  readonly #loginShell: string;
  readonly #nologin: string;
  readonly #wtmp: string;
  readonly #proc: string;
  readonly #clock: Clock;
  readonly #db: HostDb;
  readonly #keys: AuthorizedKeysStore;
  readonly #ftp: FtpAccess;
  /** One host change at a time: the account files and the FTP list are read-modify-write. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: HostAccountOptions = {}) {
    this.#group = options.group ?? 'turnpike-guests';
    this.#sshGroup = options.sshGroup ?? 'turnpike-ssh';
    this.#uidMin = options.uidMin ?? 70_000;
    this.#uidMax = options.uidMax ?? 79_999;
    this.#homeRoot = options.homeRoot ?? '/srv/turnpike/home';
    this.#loginShell = options.loginShell ?? '/bin/bash';
    this.#nologin = options.nologinShell ?? '/usr/sbin/nologin';
    this.#wtmp = options.wtmpFile ?? '/var/log/wtmp';
    this.#proc = options.procDir ?? '/proc';
    this.#clock = options.clock ?? systemClock;
    this.#db = new HostDb(options.hostDb ?? HOST_DB_PATHS);
    this.#keys = new AuthorizedKeysStore(options.keysDir ?? AUTHORIZED_KEYS_DIR);
    this.#ftp = new FtpAccess(options.ftp ?? FTP_PATHS);
    if (this.#uidMin < 1000 || this.#uidMax < this.#uidMin) {
      throw new TurnpikeError('TP_ERR_CONFIG', 'the guest uid range must start at 1000 or above');
    }
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(work, work);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** The existing account if it is ours, undefined if absent; FORBIDDEN otherwise. */
  async #owned(login: string): Promise<PasswdEntry | undefined> {
    assertLogin('login', login);
    const user = await this.#db.user(login);
    if (!user) return undefined;
    const group = await this.#db.group(this.#group);
    const ours =
      group !== undefined &&
      user.gid === group.gid &&
      LOGIN_PATTERN.test(user.login) &&
      user.login.startsWith(PREFIX) &&
      user.uid !== 0 &&
      user.uid >= this.#uidMin &&
      user.uid <= this.#uidMax;
    if (!ours) throw new TurnpikeError('TP_ERR_FORBIDDEN', `account ${login} was not created by the provisioner`);
    return user;
  }

  async #ensureGroup(name: string): Promise<void> {
    if (!(await this.#db.group(name))) await runProgram('groupadd', ['--system', '--', name], { okExitCodes: [0, 9] });
  }

  /** Shadow expiry day: the midnight after `expiresAt`, or day 1 (long past) when it has passed. */
  #expireDay(expiresAt: number): string {
    if (expiresAt === 0) return '';
    if (expiresAt * 1000 <= this.#clock.now()) return '1';
    return String(Math.ceil(expiresAt / DAY_SECONDS));
  }

  async ensure(spec: AccountSpec): Promise<void> {
    const login = assertLogin('login', spec.login);
    const passwordHash = assertPasswordHash('passwordHash', spec.passwordHash);
    const services = assertServices('services', spec.services);
    const expiresAt = assertIntRange('expiresAt', spec.expiresAt, 0, Number.MAX_SAFE_INTEGER);
    const ftpQuotaBytes = assertIntRange('ftpQuotaBytes', spec.ftpQuotaBytes, 0, Number.MAX_SAFE_INTEGER);
    const keys = assertList('authorizedKeys', spec.authorizedKeys, MAX_KEYS).map((k, i) =>
      assertAuthorizedKey(`authorizedKeys[${i}]`, k),
    );
    return this.#serial(async () => {
      let user = await this.#owned(login);
      await this.#ensureGroup(this.#group);
      await this.#ensureGroup(this.#sshGroup);
      const since = user ? parseMeta(user.gecos).since : Math.floor(this.#clock.now() / 1000);
      const gecos = formatMeta({ services, expiresAt, ftpQuotaBytes, since, suspended: false });
      const ssh = services.includes('ssh');
      const shell = ssh ? this.#loginShell : this.#nologin;
      if (!user) {
        // 0711: guests reach their own home, but cannot list who else has one.
        await mkdir(this.#homeRoot, { recursive: true, mode: 0o711 });
        await chmod(this.#homeRoot, 0o711);
        await runProgram('useradd', [
          ...['-K', `UID_MIN=${this.#uidMin}`, '-K', `UID_MAX=${this.#uidMax}`, '-K', 'HOME_MODE=0700'],
          ...['-g', this.#group, '-m', '-d', `${this.#homeRoot}/${login}`, '-l'],
          ...['-s', shell, '-c', gecos, '--', login],
        ]);
        user = await this.#owned(login);
        if (!user) throw new TurnpikeError('TP_ERR_INTERNAL', `useradd did not create ${login}`);
      }
      // The hash goes over stdin, never argv, where any local user could read it.
      if (passwordHash === '') await runProgram('usermod', ['-p', '!', '--', login]);
      else await runProgram('chpasswd', ['-e'], { input: `${login}:${passwordHash}\n` });
      await runProgram('usermod', [
        ...['-c', gecos, '-s', shell, '-e', this.#expireDay(expiresAt)],
        ...['-G', ssh ? this.#sshGroup : '', '--', login],
      ]);
      if (ssh && keys.length > 0) await this.#keys.write(login, user.uid, user.gid, keys);
      else await this.#keys.remove(login);
      if (services.includes('ftp')) await this.#ftp.enable(login, user.uid, user.gid, ftpQuotaBytes);
      else await this.#ftp.disable(login);
    });
  }

  async suspend(login: string): Promise<void> {
    assertLogin('login', login);
    return this.#serial(async () => {
      const user = await this.#owned(login);
      if (!user) return;
      const gecos = formatMeta({ ...parseMeta(user.gecos), suspended: true });
      await runProgram('usermod', ['-c', gecos, '-e', '1', '-s', this.#nologin, '-L', '--', login]);
      await this.#ftp.disable(login);
      await this.#killSessions(user.uid);
    });
  }

  async delete(login: string): Promise<void> {
    assertLogin('login', login);
    return this.#serial(async () => {
      const user = await this.#owned(login);
      if (user) {
        await runProgram('usermod', ['-e', '1', '-s', this.#nologin, '-L', '--', login]);
        await this.#killSessions(user.uid);
        await runProgram('userdel', ['-r', '--', login]);
      }
      // Leftovers of an interrupted delete carry our prefix inside our own directories.
      await this.#keys.remove(login);
      await this.#ftp.remove(login);
    });
  }

  /**
   * Kills by real and effective uid until no live process is left: a login
   * that passed authentication just before the expiry was set may still be
   * spawning. Zombies (dead, waiting for their parent) do not count.
   */
  async #killSessions(uid: number): Promise<void> {
    for (let round = 0; round < KILL_ROUNDS; round += 1) {
      await runProgram('pkill', ['-KILL', '-u', String(uid)], { okExitCodes: [0, 1] });
      await runProgram('pkill', ['-KILL', '-U', String(uid)], { okExitCodes: [0, 1] });
      if ((await liveProcessesOf(uid, this.#proc)) === 0) return;
      await sleep(50);
    }
    throw new TurnpikeError('TP_ERR_INTERNAL', `processes of uid ${uid} keep coming back`);
  }

  async usage(login: string): Promise<AccountUsage> {
    assertLogin('login', login);
    return this.#serial(async () => {
      const user = await this.#owned(login);
      if (!user) throw new TurnpikeError('TP_ERR_NOT_FOUND', `no account ${login}`);
      const meta = parseMeta(user.gecos);
      const listed = (await this.#ftp.listed()).has(login);
      const ftpBytesStored = listed
        ? await this.#ftp.enforceQuota(login, meta.ftpQuotaBytes)
        : await this.#ftp.bytesStored(login);
      const sshLogins = await countLogins(login, meta.since, this.#wtmp);
      return { login, ftpBytesStored, sshLogins };
    });
  }

  async state(): Promise<AccountState[]> {
    const group = await this.#db.group(this.#group);
    if (!group) return [];
    return (await this.#db.users())
      .filter(
        (u) => u.gid === group.gid && LOGIN_PATTERN.test(u.login) && u.uid >= this.#uidMin && u.uid <= this.#uidMax,
      )
      .map((u) => {
        const meta = parseMeta(u.gecos);
        return {
          login: u.login,
          services: meta.services,
          suspended: meta.suspended,
          expiresAt: meta.expiresAt,
          ftpQuotaBytes: meta.ftpQuotaBytes,
        };
      });
  }
}
