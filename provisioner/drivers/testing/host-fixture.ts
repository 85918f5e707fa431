import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { HostAccountDriver } from '../accounts.js';
import type { FtpPaths } from '../ftp.js';

/**
 * A private corner of the host for account tests: its own groups, directories
 * under /run (sshd's StrictModes refuses keys below world-writable /tmp), and
 * private sshd / vsftpd daemons on loopback ports started from the shipped
 * configuration in systemd/host/ with only paths, ports and names replaced.
 * `cleanup()` removes every user, group, process, file and PAM service it made.
 */

const exec = promisify(execFile);
const HOST_DIR = fileURLToPath(new URL('../../../systemd/host/', import.meta.url));

const WTMP = '/var/log/wtmp';

export const TOOLS = ['useradd', 'usermod', 'userdel', 'groupadd', 'groupdel', 'chpasswd', 'pkill', 'last', 'du'];

/** The capabilities a shipped unit keeps in its bounding set, as `setpriv --bounding-set` wants them. */
export async function unitBoundingSet(unit: string): Promise<string[]> {
  const text = await readFile(join(HOST_DIR, '..', unit), 'utf8');
  const line = /^CapabilityBoundingSet=(.*)$/m.exec(text)?.[1] ?? '';
  return line.split(/\s+/).filter((c) => c.length > 0);
}

/** `setpriv` in front of a program: only `caps` in the bounding set, no new privileges, as under systemd. */
export function setprivArgs(caps: readonly string[]): string[] {
  const bounding = ['-all', ...caps.map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`)].join(',');
  return ['setpriv', '--bounding-set', bounding, '--inh-caps', '-all', '--no-new-privs', '--'];
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    if (child.exitCode !== null) throw new Error(`daemon exited early: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`daemon did not listen on ${port}: ${log()}`);
}

function startDaemon(file: string, args: string[]): { child: ChildProcess; log: () => string } {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { child, log: () => output };
}

export class HostFixture {
  readonly tag = randomBytes(3).toString('hex');
  readonly group = `tpt-guests-${this.tag}`;
  readonly sshGroup = `tpt-ssh-${this.tag}`;
  readonly pamService = `tpt-vsftpd-${this.tag}`;
  readonly foreignLogins: string[] = [];
  readonly #daemons: ChildProcess[] = [];
  #createdWtmp = false;
  driver!: HostAccountDriver;
  ftpPaths!: FtpPaths;
  keysDir = '';
  sshPort = 0;
  ftpPort = 0;
  sshdLog: () => string = () => '';

  private constructor(readonly root: string) {}

  static async create(): Promise<HostFixture> {
    const root = await mkdtemp('/run/tp-test-');
    await chmod(root, 0o755);
    const fixture = new HostFixture(root);
    fixture.keysDir = join(root, 'keys');
    fixture.ftpPaths = {
      root: join(root, 'ftp'),
      userListFile: join(root, 'vsftpd', 'user_list'),
      userConfigDir: join(root, 'vsftpd', 'users'),
    };
    fixture.driver = new HostAccountDriver({
      group: fixture.group,
      sshGroup: fixture.sshGroup,
      homeRoot: join(root, 'home'),
      keysDir: fixture.keysDir,
      ftp: fixture.ftpPaths,
    });
    return fixture;
  }

  /** A login no earlier run can have left behind. */
  login(name: string): string {
    return `tp-${name}-${this.tag}`;
  }

  async #shipped(file: string): Promise<string> {
    return (await readFile(join(HOST_DIR, file), 'utf8'))
      .replaceAll('/etc/ssh/turnpike-authorized-keys', this.keysDir)
      .replaceAll('turnpike-guests', this.group)
      .replaceAll('turnpike-ssh', this.sshGroup);
  }

  async startSshd(): Promise<void> {
    // sshd records logins only in an existing wtmp; a fresh container may have none.
    try {
      await stat(WTMP);
    } catch {
      await writeFile(WTMP, '', { mode: 0o664 });
      this.#createdWtmp = true;
    }
    const dir = join(this.root, 'sshd');
    await mkdir(dir, { mode: 0o700 });
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
    await writeFile(join(dir, 'turnpike.conf'), await this.#shipped('sshd-turnpike.conf'));
    this.sshPort = await freePort();
    // The include comes first, as in Debian's sshd_config: its Match blocks must not swallow what follows.
    const config = [
      `Include ${join(dir, 'turnpike.conf')}`,
      `Port ${this.sshPort}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'UsePAM yes',
      // Off for everyone else, as on a hardened host: guests get passwords from the Match block alone.
      'PasswordAuthentication no',
      'PubkeyAuthentication yes',
      'KbdInteractiveAuthentication no',
      'StrictModes yes',
      'PrintMotd no',
      'MaxAuthTries 3',
      '',
    ].join('\n');
    await writeFile(join(dir, 'sshd_config'), config, { mode: 0o600 });
    const { child, log } = startDaemon('/usr/sbin/sshd', ['-f', join(dir, 'sshd_config'), '-D', '-e']);
    this.#daemons.push(child);
    this.sshdLog = log;
    await waitForPort(this.sshPort, child, log);
  }

  /** `wrapper` goes in front of vsftpd, e.g. setpriv narrowing its capabilities the way its unit does. */
  async startVsftpd(wrapper: string[] = []): Promise<void> {
    const dir = join(this.root, 'vsftpd-run');
    const empty = join(dir, 'empty');
    await mkdir(empty, { recursive: true, mode: 0o755 });
    await chmod(dir, 0o755);
    await writeFile(`/etc/pam.d/${this.pamService}`, await readFile(join(HOST_DIR, 'pam-turnpike-vsftpd'), 'utf8'));
    this.ftpPort = await freePort();
    const pasvMin = 42_000 + (this.ftpPort % 1000) * 20;
    const overrides = [
      `listen_port=${this.ftpPort}`,
      'listen_address=127.0.0.1',
      `userlist_file=${this.ftpPaths.userListFile}`,
      `user_config_dir=${this.ftpPaths.userConfigDir}`,
      `pam_service_name=${this.pamService}`,
      `secure_chroot_dir=${empty}`,
      'pasv_address=127.0.0.1',
      `pasv_min_port=${pasvMin}`,
      `pasv_max_port=${pasvMin + 19}`,
      `vsftpd_log_file=${join(dir, 'vsftpd.log')}`,
      '',
    ];
    const config = `${await this.#shipped('vsftpd-turnpike.conf')}\n${overrides.join('\n')}`;
    await writeFile(join(dir, 'vsftpd.conf'), config, { mode: 0o600 });
    await mkdir(this.ftpPaths.userConfigDir, { recursive: true });
    // As installed under /etc/turnpike (0750 root:turnpike): vsftpd must read its lists as root.
    await chmod(join(this.root, 'vsftpd'), 0o700);
    const argv = [...wrapper, '/usr/sbin/vsftpd', join(dir, 'vsftpd.conf')];
    const { child, log } = startDaemon(argv[0] ?? '', argv.slice(1));
    this.#daemons.push(child);
    await waitForPort(this.ftpPort, child, log);
  }

  /** A plain useradd account the provisioner did not create. */
  async addForeign(login: string, extra: string[] = []): Promise<void> {
    this.foreignLogins.push(login);
    await exec('useradd', ['-M', '-s', '/bin/sh', ...extra, login]);
  }

  async cleanup(): Promise<void> {
    for (const child of this.#daemons) {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(2000)]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    }
    const passwd = await readFile('/etc/passwd', 'utf8');
    const groupLine = (await readFile('/etc/group', 'utf8')).split('\n').find((l) => l.startsWith(`${this.group}:`));
    const gid = groupLine?.split(':')[2];
    const ours = passwd
      .split('\n')
      .map((l) => l.split(':'))
      .filter((f) => gid !== undefined && f[3] === gid)
      .map((f) => f[0] ?? '');
    for (const login of [...ours, ...this.foreignLogins]) {
      await exec('pkill', ['-KILL', '-u', login]).catch(() => undefined);
      await exec('userdel', ['-r', '-f', login]).catch(() => undefined);
    }
    for (const group of [this.sshGroup, this.group]) await exec('groupdel', [group]).catch(() => undefined);
    await rm(`/etc/pam.d/${this.pamService}`, { force: true });
    if (this.#createdWtmp) await rm(WTMP, { force: true });
    await rm(this.root, { recursive: true, force: true });
  }
}

/** Runs a client program, returning its exit code and output instead of throwing. */
export function tryRun(
  file: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
