/**
 * The provisioner's mechanisms sit behind these two interfaces. The gRPC layer
 * (provisioner/service/*) validates every argument BEFORE a driver sees it, so a
 * driver receives only well-formed values (see provisioner/validation.ts); a
 * driver still re-checks ownership on the host, because validation cannot know
 * what the host already holds.
 *
 * Errors: a driver throws `TurnpikeError` (shared/errors.ts) with
 *   - 'TP_ERR_FORBIDDEN'   the object exists on the host but is not ours (not in
 *                          our group / not our prefix, e.g. a pre-existing user);
 *                          nothing was changed — surfaces as PERMISSION_DENIED;
 *   - 'TP_ERR_VALIDATION'  the host refused a value validation let through;
 *   - 'TP_ERR_UNAVAILABLE' a tool or daemon the driver needs is not there.
 * Anything else it throws becomes a logged INTERNAL at the gRPC edge.
 *
 * Every operation is idempotent: repeating it with the same arguments leaves the
 * host as one call would have; removing what is absent succeeds.
 * Drivers run programs with argument vectors (`execFile`), never through a shell.
 */

// ---------------------------------------------------------------- firewall

export interface ClientRule {
  /** IPv4 or IPv6 in canonical text form (validation canonicalizes). */
  ip: string;
  /** Lower-case colon form `aa:bb:cc:dd:ee:ff`. */
  mac: string;
  /** Time the client stays allowed, in seconds (1 .. 31,536,000). */
  seconds: number;
  /** Upload limit in kbit/s; 0 = unlimited. */
  upKbps: number;
  /** Download limit in kbit/s; 0 = unlimited. */
  downKbps: number;
  /** The appliance's session id (`[A-Za-z0-9_-]{1,64}`); reconciliation keys on it. */
  sessionId: string;
}

export interface ClientRef {
  ip: string;
  mac: string;
  /** Informational; revocation keys on ip (and mac). */
  sessionId: string;
}

export interface ClientEntry {
  ip: string;
  mac: string;
  sessionId: string;
  upKbps: number;
  downKbps: number;
  /** Seconds until the entry lapses on its own (the kernel timer for nftables). */
  remainingSeconds: number;
  /** Traffic matched for this client since it was allowed. */
  packets: number;
  bytes: number;
}

export interface WalledGarden {
  /** Host names (validated, lower case); the driver resolves and refreshes them. */
  domains: string[];
  /** CIDRs or single addresses, IPv4 or IPv6, canonical text. */
  cidrs: string[];
}

export interface FirewallState {
  clients: ClientEntry[];
  walledGarden: WalledGarden;
}

export interface FirewallDriver {
  /** Installs its table, or adopts it as found after a restart (entries kept). */
  start(): Promise<void>;
  /** Adds or refreshes one client; allowing twice leaves one entry with the later time and rates. */
  allow(rule: ClientRule): Promise<void>;
  /** Removes the client's entries; succeeds when there are none. */
  revoke(ref: ClientRef): Promise<void>;
  /** Live entries with counters. */
  list(): Promise<ClientEntry[]>;
  /** Replaces the walled garden as a whole. */
  setWalledGarden(garden: WalledGarden): Promise<void>;
  /** Everything it holds, read back from the host, for reconciliation. */
  state(): Promise<FirewallState>;
  /** Stops timers (e.g. DNS refresh). Leaves the host rules in place on purpose. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------- accounts

export type AccountService = 'ssh' | 'ftp';

export interface AccountSpec {
  /** Always carries the provisioner's prefix: `^tp-[a-z0-9][a-z0-9_-]{0,27}$` (≤ 31 chars, within useradd's 32). */
  login: string;
  /** A bcrypt `$2b$NN$<53 chars>` hash set directly in /etc/shadow; '' = password login disabled. */
  passwordHash: string;
  /**
   * OpenSSH public key lines `type base64 [comment]`, already validated: types
   * ssh-ed25519, ecdsa-sha2-nistp256/384/521, sk-* and ssh-rsa ≥ 2048 bits;
   * no DSA, no options prefix, comment restricted to `[A-Za-z0-9@._+-]`.
   */
  authorizedKeys: string[];
  /** At least one; a service not listed must not work for the account. */
  services: AccountService[];
  /** Unix seconds after which no login works; 0 = no expiry. */
  expiresAt: number;
  /** FTP storage limit in bytes; 0 = unlimited. Enforcement is best effort (see driver docs). */
  ftpQuotaBytes: number;
}

export interface AccountState {
  login: string;
  services: AccountService[];
  suspended: boolean;
  expiresAt: number;
  ftpQuotaBytes: number;
}

export interface AccountUsage {
  login: string;
  /** Bytes under the account's FTP root (from disk). */
  ftpBytesStored: number;
  /** Successful SSH logins the driver has seen (lastlog/wtmp or its own count). */
  sshLogins: number;
}

export interface AccountDriver {
  /**
   * Creates or converges the account to `spec` (password, keys, services,
   * expiry, quota) and lifts a suspension. FORBIDDEN when a user of that name
   * exists but was not created by the provisioner.
   */
  ensure(spec: AccountSpec): Promise<void>;
  /**
   * Stops password AND key logins for ssh and ftp and ends running sessions;
   * keeps files. Absent login → success (nothing can log in). Not ours → FORBIDDEN.
   */
  suspend(login: string): Promise<void>;
  /** Removes the account and its files. Absent → success. Not ours → FORBIDDEN. */
  delete(login: string): Promise<void>;
  /** NOT_FOUND (`TP_ERR_NOT_FOUND`) when absent; FORBIDDEN when not ours. */
  usage(login: string): Promise<AccountUsage>;
  /** Every account the provisioner owns on the host, suspended ones included. */
  state(): Promise<AccountState[]>;
}
