import { randomUUID } from 'node:crypto';
import { parseAuthorizedKey } from '../../proto/authorized-key.js';
import type { Clock } from '../../shared/clock.js';
import type { Db, SshKey } from '../domain/model.js';
import { TurnpikeError } from '../../shared/errors.js';
import type { HistoryWriter, Store } from '../store/store.js';
import { auditIn, userActor } from './audit.js';

/**
 * A user's SSH public keys: the provisioner installs them on the host account
 * their plan gives them. Validation is the provisioner's own parser, so a key
 * accepted here is never refused when the reconciler hands it on.
 */

/** Room for the longest key line the parser takes (8 KiB of base64) plus type and comment, with margin. */
export const MAX_PUBLIC_KEY_LINE_LENGTH = 16_384;

/** Well below the provisioner's per-account limit, so every stored key fits. */
export const MAX_SSH_KEYS_PER_USER = 10;

const WHAT_TO_PASTE =
  'paste the single line of your public key file (e.g. ~/.ssh/id_ed25519.pub), ' +
  'starting with ssh-ed25519, ecdsa-sha2-nistp256 or ssh-rsa (2048 bits or more)';

/** A stored key with the parts of its line a person recognises it by. */
export interface SshKeyView extends SshKey {
  type: string;
  comment: string;
}

export interface SshKeyChangeMeta {
  /** Where the change came from, for the audit log. */
  ip?: string | null;
}

export function sshKeyView(key: SshKey): SshKeyView {
  const [type = '', , comment = ''] = key.line.split(' ');
  return { ...key, type, comment };
}

export function listSshKeys(db: Readonly<Db>, userId: string): SshKeyView[] {
  const user = db.users[userId];
  if (!user) throw new TurnpikeError('TP_ERR_NOT_FOUND', 'No such user');
  return user.sshKeys.map(sshKeyView);
}

export async function addSshKey(
  store: Store,
  clock: Clock,
  userId: string,
  line: string,
  meta: SshKeyChangeMeta = {},
): Promise<SshKeyView> {
  const parsed = parseAuthorizedKey(line);
  if (!parsed.ok) {
    throw new TurnpikeError('TP_ERR_VALIDATION', `That SSH key cannot be used: ${parsed.reason}; ${WHAT_TO_PASTE}`, {
      field: 'publicKey',
      reason: parsed.reason,
    });
  }
  return store.update((db, histories) => {
    const user = db.users[userId];
    if (!user) throw new TurnpikeError('TP_ERR_NOT_FOUND', 'No such user');
    if (user.sshKeys.some((k) => k.fingerprint === parsed.fingerprint)) {
      throw new TurnpikeError('TP_ERR_CONFLICT', `This key (${parsed.fingerprint}) is already on your account`, {
        reason: 'duplicate',
      });
    }
    if (user.sshKeys.length >= MAX_SSH_KEYS_PER_USER) {
      throw new TurnpikeError(
        'TP_ERR_CONFLICT',
        `An account holds at most ${MAX_SSH_KEYS_PER_USER} SSH keys; remove one first`,
        { reason: 'limit', max: MAX_SSH_KEYS_PER_USER },
      );
    }
    const now = clock.now();
    const added: SshKey = { id: randomUUID(), line: parsed.line, fingerprint: parsed.fingerprint, addedAt: now };
    user.sshKeys.push(added);
    user.updatedAt = now;
    auditKeyChangeIn(db, histories, now, meta, 'ssh_key.added', userId, added);
    return sshKeyView(added);
  });
}

export async function removeSshKey(
  store: Store,
  clock: Clock,
  userId: string,
  keyId: string,
  meta: SshKeyChangeMeta = {},
): Promise<void> {
  await store.update((db, histories) => {
    const user = db.users[userId];
    const index = user ? user.sshKeys.findIndex((k) => k.id === keyId) : -1;
    if (!user || index < 0) throw new TurnpikeError('TP_ERR_NOT_FOUND', 'No such SSH key on your account');
    const [gone] = user.sshKeys.splice(index, 1);
    user.updatedAt = clock.now();
    auditKeyChangeIn(db, histories, user.updatedAt, meta, 'ssh_key.removed', userId, gone!);
  });
}

/**
 * A guest changes only their own keys: they are actor and target of the audit entry, written in
 * the mutation that changes the keys, so the two are kept together or not at all.
 */
function auditKeyChangeIn(
  db: Readonly<Db>,
  histories: HistoryWriter,
  at: number,
  meta: SshKeyChangeMeta,
  action: string,
  userId: string,
  key: SshKey,
): void {
  auditIn(histories, at, userActor(db, userId, meta.ip ?? null), {
    action,
    target: userId,
    details: { keyId: key.id, fingerprint: key.fingerprint },
  });
}

/** The functions above bound to one store, clock and audit trail; what the front doors hold. */
export interface SshKeys {
  list(userId: string): SshKeyView[];
  add(userId: string, line: string, meta?: { ip?: string | null }): Promise<SshKeyView>;
  remove(userId: string, keyId: string, meta?: { ip?: string | null }): Promise<void>;
  /** Runs `listener` after every change, e.g. to ask the reconciler for a round now rather than next interval. */
  onChanged(listener: () => void): void;
}

export function createSshKeys(deps: { store: Store; clock: Clock }): SshKeys {
  const { store, clock } = deps;
  const listeners: Array<() => void> = [];
  const changed = (): void => listeners.forEach((listener) => listener());
  return {
    list: (userId) => listSshKeys(store.db, userId),
    async add(userId, line, meta = {}) {
      const key = await addSshKey(store, clock, userId, line, meta);
      changed();
      return key;
    },
    async remove(userId, keyId, meta = {}) {
      await removeSshKey(store, clock, userId, keyId, meta);
      changed();
    },
    onChanged: (listener) => void listeners.push(listener),
  };
}
