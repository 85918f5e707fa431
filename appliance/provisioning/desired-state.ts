import { createHash } from 'node:crypto';
import { parseAuthorizedKey } from '../../proto/authorized-key.js';
import type { Db } from '../domain/model.js';
import { denialAt, remainingOf } from '../entitlements/entitlement.js';
import { firewallGrantOf, sessionLimitsOf } from '../sessions/limits.js';

/**
 * What the provisioners should hold, computed from the store alone. Pure
 * functions of (db, now): the reconcile loop compares their result with
 * `GetState` and issues idempotent calls for the difference.
 */

export interface DesiredClient {
  ip: string;
  mac: string;
  sessionId: string;
  seconds: number;
  upKbps: number;
  downKbps: number;
}

export type AccountServiceName = 'ssh' | 'ftp';

export interface DesiredAccount {
  login: string;
  /** active → ensured; suspended → kept but unable to log in. */
  status: 'active' | 'suspended';
  passwordHash: string;
  /** The owner's SSH public key lines; part of the spec, so a change re-ensures the account. */
  authorizedKeys: string[];
  services: AccountServiceName[];
  /** Unix seconds; 0 = none. */
  expiresAt: number;
  ftpQuotaBytes: number;
}

/** The host login of a user's SSH/FTP account: fixed prefix, stable, within useradd's limits. */
export function accountLoginFor(userId: string): string {
  return `tp-${createHash('sha256').update(userId).digest('hex').slice(0, 12)}`;
}

/** Live gateway-mode sessions whose subscription may still carry them, keyed by address. */
export function desiredClients(
  db: Readonly<Db>,
  now: number,
  o: { openEndedSeconds: number },
): Map<string, DesiredClient> {
  const out = new Map<string, DesiredClient>();
  for (const session of Object.values(db.sessions)) {
    if (session.mode !== 'gateway' || session.ip === null) continue;
    const sub = db.subscriptions[session.subscriptionId];
    const plan = sub && db.plans[sub.planId];
    if (!sub || !plan || denialAt(db, sub, now) !== null) continue;
    const limits = sessionLimitsOf({ plan, ...remainingOf(plan, sub, now) }, session.interimIntervalSeconds);
    if (limits.sessionTimeout !== null && limits.sessionTimeout <= 0) continue;
    out.set(session.ip, {
      ip: session.ip,
      mac: session.mac,
      sessionId: session.id,
      ...firewallGrantOf(limits, o.openEndedSeconds),
    });
  }
  return out;
}

const BCRYPT_2B = /^\$2b\$\d\d\$[./A-Za-z0-9]{53}$/;

/**
 * Accounts of registered users whose plans include ssh or ftp: any usable
 * subscription → active with the union of services and the latest end; only
 * ended ones → suspended; none at all (or the user is gone) → absent, which the
 * reconcile loop turns into a delete.
 */
export function desiredAccounts(
  db: Readonly<Db>,
  now: number,
  o: { ftpQuotaBytes: number },
): Map<string, DesiredAccount> {
  const out = new Map<string, DesiredAccount>();
  for (const sub of Object.values(db.subscriptions)) {
    const user = sub.userId === null ? undefined : db.users[sub.userId];
    const plan = db.plans[sub.planId];
    if (!user || !plan) continue;
    const services = plan.services.filter((s): s is AccountServiceName => s === 'ssh' || s === 'ftp');
    if (services.length === 0) continue;
    const login = accountLoginFor(user.id);
    const usable = !user.disabled && denialAt(db, sub, now) === null;
    const current = out.get(login);
    const endsAt = sub.endsAt === null ? 0 : Math.ceil(sub.endsAt / 1000);
    if (!current || (usable && current.status === 'suspended')) {
      out.set(login, {
        login,
        status: usable ? 'active' : 'suspended',
        passwordHash: BCRYPT_2B.test(user.passwordHash) ? user.passwordHash : '',
        // A key a later, stricter parser refuses is left out, so it cannot block the whole account.
        authorizedKeys: user.sshKeys.map((k) => k.line).filter((line) => parseAuthorizedKey(line).ok),
        services: [...services].sort(),
        expiresAt: usable ? endsAt : 0,
        ftpQuotaBytes: o.ftpQuotaBytes,
      });
    } else if (usable === (current.status === 'active')) {
      current.services = [...new Set([...current.services, ...services])].sort();
      // 0 means "no end": it wins over any date.
      current.expiresAt = current.expiresAt === 0 || endsAt === 0 ? 0 : Math.max(current.expiresAt, endsAt);
    }
  }
  return out;
}
