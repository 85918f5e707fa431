import { chmod, lchown, lstat, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TurnpikeError } from '../../shared/errors.js';
import { writeFileAtomic } from './atomic-file.js';
import { runProgram } from './run.js';

/**
 * vsftpd access for guest accounts (config: systemd/host/vsftpd-turnpike.conf).
 *
 * - An allow-list (`userlist_enable=YES`, `userlist_deny=NO`): only listed
 *   logins get past USER; vsftpd reads it per connection, so a rewrite takes
 *   effect for the next login. Rewritten atomically.
 * - A per-user file in `user_config_dir` sets `local_root` to the guest's own
 *   chroot `<root>/<login>` (root-owned, so the `allow_writeable_chroot` escape
 *   hatch stays off) holding `files/`, the only place the guest can write.
 * - Quota: vsftpd has none, so the per-user file carries `write_enable=NO` once
 *   the bytes stored reach the quota; re-evaluated on every ensure and usage
 *   read. Best effort: an upload in progress can overshoot until the next one.
 */

export interface FtpPaths {
  /** Parent of the per-guest chroots. */
  root: string;
  userListFile: string;
  userConfigDir: string;
}

export const FTP_PATHS: FtpPaths = {
  root: '/srv/turnpike/ftp',
  userListFile: '/etc/turnpike/vsftpd/user_list',
  userConfigDir: '/etc/turnpike/vsftpd/users',
};

/** The directory inside the chroot the guest may write. */
export const FTP_FILES_DIR = 'files';

/** mkdir -p with the mode set exactly: the provisioner runs with UMask=0077, vsftpd reads as the guest. */
async function ensureDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o755 });
  await chmod(path, 0o755);
}

export class FtpAccess {
  constructor(private readonly paths: FtpPaths = FTP_PATHS) {}

  chrootOf(login: string): string {
    return join(this.paths.root, login);
  }

  async listed(): Promise<Set<string>> {
    try {
      const text = await readFile(this.paths.userListFile, 'utf8');
      return new Set(text.split('\n').filter((line) => line.length > 0));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
      throw err;
    }
  }

  private async writeList(logins: Set<string>): Promise<void> {
    await ensureDir(this.paths.userConfigDir);
    const sorted = [...logins].sort();
    await writeFileAtomic(this.paths.userListFile, sorted.map((l) => `${l}\n`).join(''), { mode: 0o644 });
  }

  /** Creates the chroot, writes the per-user settings and lists the login. */
  async enable(login: string, uid: number, gid: number, quotaBytes: number): Promise<void> {
    const chroot = this.chrootOf(login);
    await ensureDir(this.paths.root);
    await mkdir(chroot, { recursive: true, mode: 0o755 });
    const info = await lstat(chroot);
    if (!info.isDirectory() || info.uid !== 0) {
      throw new TurnpikeError('TP_ERR_INTERNAL', `${chroot} must be a root-owned directory`);
    }
    await chmod(chroot, 0o755);
    const files = join(chroot, FTP_FILES_DIR);
    await mkdir(files, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    const filesInfo = await lstat(files);
    if (!filesInfo.isDirectory()) throw new TurnpikeError('TP_ERR_INTERNAL', `${files} is not a directory`);
    // lchown: a guest-made link in place of the directory must not redirect ownership.
    await lchown(files, uid, gid);
    await this.enforceQuota(login, quotaBytes);
    const listed = await this.listed();
    if (!listed.has(login)) {
      listed.add(login);
      await this.writeList(listed);
    }
  }

  /** Takes the login off the allow-list; files stay. */
  async disable(login: string): Promise<void> {
    const listed = await this.listed();
    if (!listed.delete(login)) return;
    await this.writeList(listed);
  }

  /** Off the list, settings and files gone. */
  async remove(login: string): Promise<void> {
    await this.disable(login);
    await rm(join(this.paths.userConfigDir, login), { force: true });
    await rm(this.chrootOf(login), { recursive: true, force: true });
  }

  /**
   * Bytes stored under the guest's chroot (`du`, apparent size, not following
   * links, one file system); 0 when it has none.
   */
  async bytesStored(login: string): Promise<number> {
    const chroot = this.chrootOf(login);
    try {
      await lstat(chroot);
    } catch {
      return 0;
    }
    const { stdout } = await runProgram('du', ['-s', '-b', '-P', '-x', '--', chroot]);
    const bytes = Number(stdout.split('\t')[0]);
    if (!Number.isSafeInteger(bytes)) throw new TurnpikeError('TP_ERR_INTERNAL', `du printed ${stdout.trim()}`);
    return bytes;
  }

  /** Rewrites the per-user settings: writes allowed while under the quota (0 = unlimited). */
  async enforceQuota(login: string, quotaBytes: number): Promise<number> {
    const bytes = await this.bytesStored(login);
    const writable = quotaBytes === 0 || bytes < quotaBytes;
    await ensureDir(this.paths.userConfigDir);
    const settings = [
      '# Written by the Turnpike provisioner; rewritten on every ensure and usage read.',
      `local_root=${this.chrootOf(login)}`,
      `write_enable=${writable ? 'YES' : 'NO'}`,
      '',
    ].join('\n');
    await writeFileAtomic(join(this.paths.userConfigDir, login), settings, { mode: 0o644 });
    return bytes;
  }
}
