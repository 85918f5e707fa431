import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TurnpikeError } from '../../shared/errors.js';
import { assertAuthorizedKey, assertList, MAX_KEYS } from '../validation.js';
import { writeFileAtomic } from './atomic-file.js';

/**
 * Public keys for guest SSH accounts. They live in a root-owned directory
 * outside the guest's home (sshd: `AuthorizedKeysFile <dir>/%u` for the guest
 * group, see systemd/host/sshd-turnpike.conf), so root never writes through a
 * path the guest controls and an FTP upload can never plant a key.
 */
export const AUTHORIZED_KEYS_DIR = '/etc/ssh/turnpike-authorized-keys';

export class AuthorizedKeysStore {
  constructor(private readonly dir: string = AUTHORIZED_KEYS_DIR) {}

  pathOf(login: string): string {
    return join(this.dir, login);
  }

  /** The directory must be a real, root-owned directory no one else can write. */
  private async ensureDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    const info = await lstat(this.dir);
    if (!info.isDirectory() || info.uid !== 0) {
      throw new TurnpikeError('TP_ERR_INTERNAL', `${this.dir} must be a root-owned directory`);
    }
    // Exactly 0755 whatever the umask: sshd reads the files as the guest, nobody but root writes here.
    await chmod(this.dir, 0o755);
  }

  /**
   * Atomically replaces the login's key file, owned by the guest and readable
   * only by it (sshd reads it as the user) inside a directory only root writes.
   * Keys are re-validated here: no DSA, RSA ≥ 2048 bits, no options prefix.
   */
  async write(login: string, uid: number, gid: number, keys: readonly string[]): Promise<void> {
    const lines = assertList('authorizedKeys', keys, MAX_KEYS).map((k, i) =>
      assertAuthorizedKey(`authorizedKeys[${i}]`, k),
    );
    await this.ensureDir();
    await writeFileAtomic(this.pathOf(login), lines.map((l) => `${l}\n`).join(''), { mode: 0o600, uid, gid });
  }

  async remove(login: string): Promise<void> {
    await rm(this.pathOf(login), { force: true });
  }
}
