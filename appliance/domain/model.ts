/**
 * The records that make up the appliance's current state. `db.json` holds
 * exactly a `Db`; histories that grow without bound (audit, accounting, closed
 * sessions, payment events) live in append-only history files instead.
 *
 * Times are milliseconds since the epoch (from the injected Clock); money is
 * integer minor units; byte counts are plain numbers (safe to 2^53).
 */

import type { PaymentsState } from '../payments/model.js';
import type { ReportsState } from '../reports/model.js';

export type Role = 'guest' | 'operator' | 'admin';
export const ROLES: readonly Role[] = ['guest', 'operator', 'admin'];

export interface User {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  passwordHash: string;
  emailVerified: boolean;
  disabled: boolean;
  /** Set on a first admin created with a one-time password: it must be changed. */
  mustChangePassword: boolean;
  mfa: MfaState | null;
  /** Public keys for the SSH account a plan with `ssh` gives (schema v4). */
  sshKeys: SshKey[];
  createdAt: number;
  updatedAt: number;
}

export interface SshKey {
  id: string;
  /** Normalised OpenSSH line `type base64 [comment]`, as the provisioner writes it. */
  line: string;
  /** `SHA256:…` of the key blob, as `ssh-keygen -l` prints it; unique per user. */
  fingerprint: string;
  addedAt: number;
}

export interface MfaState {
  /** Base32 TOTP secret. */
  secret: string;
  /** Set once the user proved possession with a first code. */
  enabledAt: number | null;
  /** SHA-256 hex of each unused recovery code. */
  recoveryCodeHashes: string[];
  /** Last accepted TOTP counter, so a code cannot be replayed. */
  lastCounter: number;
}

export interface RefreshToken {
  /** SHA-256 hex of the opaque token; the token itself is never stored. */
  hash: string;
  userId: string;
  familyId: string;
  issuedAt: number;
  expiresAt: number;
  usedAt: number | null;
  revokedAt: number | null;
  /** The session passed a second factor (TOTP, recovery code or fresh enrolment); carried across rotations. */
  secondFactor?: boolean;
}

/**
 * A refresh-token family that must not be used any more. Kept in the store so that every appliance
 * refuses its access tokens, and forgotten once `expiresAt` has passed: by then no token of the
 * family can be presented anyway.
 */
export interface RevokedFamily {
  familyId: string;
  revokedAt: number;
  /** When the family's last refresh token (or access token) expires. */
  expiresAt: number;
}

/**
 * Who may run something that only one appliance at a time may run (a periodic job, the payment
 * event applier). The holder renews it while alive; once `expiresAt` passes, anyone may take it.
 */
export interface Lease {
  name: string;
  /** The process holding it (host, pid and a random part that differs at every start). */
  holder: string;
  acquiredAt: number;
  expiresAt: number;
}

export interface SigningKey {
  kid: string;
  alg: 'EdDSA';
  publicJwk: Record<string, unknown>;
  privateJwk: Record<string, unknown>;
  createdAt: number;
  /** Retired keys still verify tokens until they expire, but never sign. */
  retiredAt: number | null;
}

export interface OneTimeToken {
  /** SHA-256 hex of the emailed token. */
  hash: string;
  userId: string;
  /** `mfa-challenge`: the password step of one sign-in, redeemed once by its second factor. */
  purpose: 'password-reset' | 'email-verification' | 'mfa-challenge';
  expiresAt: number;
  usedAt: number | null;
}

export type Service = 'internet' | 'ssh' | 'ftp';

/**
 * A plan's quota period: every day, week or month, counted from the subscription's start or from
 * a local time of day (HH:MM in the venue's time zone, `settings.timeZone`) — daily at that time,
 * weekly on Mondays, monthly on the first.
 */
export interface UsagePeriod {
  every: 'day' | 'week' | 'month';
  anchor: 'start' | `${number}:${number}`;
}

export interface Plan {
  id: string;
  name: string;
  description: string;
  priceMinor: number;
  currency: string;
  /** Seconds of access from activation; null = until the quota is spent. */
  durationSeconds: number | null;
  /** Data allowance shared by all of the guest's devices; null = unlimited. */
  quotaBytes: number | null;
  bandwidthUpKbps: number | null;
  bandwidthDownKbps: number | null;
  maxDevices: number;
  idleTimeoutSeconds: number | null;
  services: Service[];
  recurring: boolean;
  /** Free tier: may be taken once per device per period. */
  freeTier: { periodSeconds: number } | null;
  /** How often the data quota comes back whole; null = once per subscription (and per paid renewal). */
  usagePeriod: UsagePeriod | null;
  /** When the quota is spent: cut the session, or throttle to this rate. */
  onQuotaExhausted: { action: 'disconnect' } | { action: 'throttle'; upKbps: number; downKbps: number };
  visible: boolean;
  archived: boolean;
  createdAt: number;
  updatedAt: number;
}

export type SubscriptionSource = 'voucher' | 'free-tier' | 'payment' | 'staff-grant';

export interface Subscription {
  id: string;
  /** A registered user, or null for a voucher-only guest identified by `voucherCode`. */
  userId: string | null;
  voucherCode: string | null;
  planId: string;
  source: SubscriptionSource;
  /** Reference to what created it: voucher code, payment id, staff user id. */
  sourceRef: string | null;
  status: 'active' | 'past_due' | 'suspended' | 'cancelled' | 'expired';
  startedAt: number;
  /** null = no time limit (quota-only plans). */
  endsAt: number | null;
  bytesUsed: number;
  /** The start of the usage period `bytesUsed` counts (see `Plan.usagePeriod`); absent: `startedAt`. */
  usagePeriodStartedAt?: number;
  /** Data bought on top of the plan's quota (top-ups) for the current usage period; gone at its reset. */
  topUpBytes?: number;
  cancelAtPeriodEnd: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface VoucherBatch {
  id: string;
  planId: string;
  count: number;
  prefix: string;
  multiUse: boolean;
  /** Maximum redemptions per code when multi-use (null = unlimited). */
  maxUses: number | null;
  validFrom: number;
  validUntil: number;
  note: string;
  createdBy: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface Voucher {
  code: string;
  batchId: string;
  planId: string;
  uses: number;
  firstUsedAt: number | null;
  revokedAt: number | null;
}

export interface Device {
  id: string;
  /** Owner: a user id, or a voucher code for account-less guests. */
  ownerKey: string;
  /** Normalised lower-case colon MAC of the current binding. */
  mac: string;
  label: string;
  firstSeenAt: number;
  lastSeenAt: number;
}

export type Dialect = 'coovachilli' | 'mikrotik' | 'generic';

export interface NasClient {
  id: string;
  name: string;
  /** A single address or a CIDR, IPv4 or IPv6. */
  source: string;
  secret: string;
  dialect: Dialect;
  coaPort: number;
  requireMessageAuthenticator: boolean;
  /** CoovaChilli `uamsecret`, when the NAS is set up with one: the portal hashes the UAM challenge with it. */
  uamSecret?: string;
  createdAt: number;
}

/** A one-time RADIUS credential minted by the portal for one NAS login. */
export interface PortalCredential {
  username: string;
  /** Cleartext, because CHAP needs it; lives minutes and is used once. */
  password: string;
  subscriptionId: string;
  mac: string;
  expiresAt: number;
  usedAt: number | null;
}

export interface Session {
  id: string;
  subscriptionId: string;
  ownerKey: string;
  nasId: string | null;
  /** The NAS's Acct-Session-Id, when known. */
  acctSessionId: string | null;
  mode: 'controller' | 'gateway';
  mac: string;
  /** The client's IPv4 address, or its IPv6 address when it has none (an IPv6-only client). */
  ip: string | null;
  /** A dual-stack client's IPv6 address (Framed-IPv6-Address) beside the IPv4 one in `ip`. */
  ipv6Address?: string;
  /** IPv6 prefixes the NAS reported for the client (Framed-IPv6-Prefix, Delegated-IPv6-Prefix). */
  ipv6Prefixes?: string[];
  startedAt: number;
  lastUpdateAt: number;
  interimIntervalSeconds: number;
  inputOctets: number;
  outputOctets: number;
  /** Bytes already charged to the subscription from this session. */
  chargedOctets: number;
  /** A disconnect was requested but not acknowledged: refuse the next request. */
  disconnectPendingSince: number | null;
  /**
   * The NAS acknowledged a Disconnect-Request for this session (when, and why it was sent): accounting
   * that shows the session running on after it means the NAS acks but keeps forwarding.
   */
  disconnectAcked?: { at: number; reason: string } | null;
  /** The NAS acked a disconnect and kept forwarding: the disconnect is retried on this schedule. */
  ignoredDisconnect?: IgnoredDisconnect;
}

/** Retries of a disconnect the NAS acknowledged but did not carry out (bounded, with back-off). */
export interface IgnoredDisconnect {
  reason: string;
  detectedAt: number;
  retries: number;
  /** When the next retry is due; null once the retries are spent. */
  nextRetryAt: number | null;
}

/**
 * What a network engineer needs to trust a NAS, shared by every appliance on the store: written by
 * a periodic flush of each appliance's in-memory observations, and by the writes that already close
 * stale sessions or record accounting (missing Stops, ignored disconnects).
 */
export interface NasTrust {
  nasId: string;
  /** The last packet from the NAS that passed authentication, by any appliance. */
  lastSeenAt: number | null;
  /** Recent gaps between a session's accounting updates (seconds, newest last, bounded). */
  interimGapsSeconds: number[];
  /** The Acct-Interim-Interval the NAS was told last. */
  configuredInterimSeconds: number | null;
  /** Sessions the stale sweep closed because no Stop came. */
  missingStops: number;
  /** Access-Requests seen with and without Message-Authenticator. */
  accessRequestsSigned: number;
  accessRequestsUnsigned: number;
  /** Whether the latest Access-Request seen carried Message-Authenticator; null before any. */
  lastAccessRequestSigned: boolean | null;
  /** When that Access-Request came (so appliances flushing out of order keep the latest). */
  lastAccessRequestAt: number | null;
  /** Disconnects the NAS acknowledged while accounting showed the session going on. */
  acksButKeepsForwarding: number;
  updatedAt: number;
}

export interface Settings {
  venueName: string;
  logoUrl: string | null;
  primaryColor: string;
  accentColor: string;
  welcomeText: Record<string, string>;
  termsText: Record<string, string>;
  supportContact: string;
  /** IANA time zone of the venue: usage periods anchored at a time of day follow its clock. */
  timeZone: string;
  seller: {
    name: string;
    address: string;
    taxId: string;
    taxRatePercent: number;
  };
}

/** Failed attempts under one key (sign-in, reset mails); shared by every appliance on the store. */
export interface AttemptCounter {
  count: number;
  lastAt: number;
  /** Refuse the key until then (ms since the epoch); 0 when it may go on. */
  blockedUntil: number;
}

export interface Db {
  schemaVersion: number;
  users: Record<string, User>;
  refreshTokens: Record<string, RefreshToken>;
  /** Revoked refresh-token families by id (schema v6). */
  revokedFamilies: Record<string, RevokedFamily>;
  oneTimeTokens: Record<string, OneTimeToken>;
  signingKeys: SigningKey[];
  plans: Record<string, Plan>;
  subscriptions: Record<string, Subscription>;
  voucherBatches: Record<string, VoucherBatch>;
  vouchers: Record<string, Voucher>;
  devices: Record<string, Device>;
  /** Free-tier uses: key `${planId}|${mac}` → last taken at. */
  freeTierUses: Record<string, number>;
  nasClients: Record<string, NasClient>;
  portalCredentials: Record<string, PortalCredential>;
  sessions: Record<string, Session>;
  settings: Settings;
  /** Counters that must never repeat (invoice numbers per year, …). */
  sequences: Record<string, number>;
  /** Leases by name: which appliance runs each periodic job, who applies payment events (schema v6). */
  leases: Record<string, Lease>;
  /** Customers, payments, invoices and provider sync state (schema v2). */
  payments: PaymentsState;
  /** Daily rollups for the console's reports, written with the facts they count (schema v8). */
  reports: ReportsState;
  /**
   * Back-off and alert counters by key (`login:pair:…`, `login:address:…`, `reset-mail:…`), kept
   * here rather than in memory so that several appliances on one store see the same failures.
   * Optional: created on first use, so stores written before it need no migration.
   */
  attempts?: Record<string, AttemptCounter>;
  /** Per-NAS trust figures by NAS id; optional like `attempts`, created on first use. */
  nasTrust?: Record<string, NasTrust>;
}
