import type { FastifyReply } from 'fastify';
import type { TokenPair } from '../../appliance/accounts/session-tokens.js';
import type { SshKeys } from '../../appliance/accounts/ssh-keys.js';
import { clearSessionCookies, setSessionCookies } from '../auth/session-cookies.js';

interface Meta {
  ip: string | null;
}

/**
 * What the guest pages need from accounts: the subset of `AuthFlows` plus the
 * portal's session-cookie helpers. The composition root passes the real ones.
 */
export interface PortalAccounts {
  /** Resolves alike whether the address was new or taken (see `AuthFlows.register`); sign in next. */
  register(input: { email: string; password: string; displayName?: string }, meta: Meta): Promise<unknown>;
  login(
    input: { email: string; password: string },
    meta: Meta,
  ): Promise<{ status: 'ok'; user: { id: string }; tokens: TokenPair } | { status: 'mfa_required'; mfaToken: string }>;
  logout(
    input: { sessionId?: string | null; refreshToken?: string; actorId?: string | null },
    meta: Meta,
  ): Promise<void>;
  changePassword(
    input: { userId: string; sessionId: string | null; currentPassword: string; newPassword: string },
    meta: Meta,
  ): Promise<void>;
  setSessionCookies(reply: FastifyReply, tokens: TokenPair): void;
  clearSessionCookies(reply: FastifyReply): void;
  /** The account page's SSH key forms; absent or null hides them. */
  sshKeys?: PortalSshKeys | null;
}

export type PortalSshKeys = Pick<SshKeys, 'add' | 'remove'>;

type AccountFlows = Pick<PortalAccounts, 'register' | 'login' | 'logout' | 'changePassword'>;

/** The guest pages' accounts from the account service's `flows` (and `sshKeys`) and the portal's session cookies. */
export function portalAccountsFrom(flows: AccountFlows, sshKeys: PortalSshKeys | null = null): PortalAccounts {
  return {
    register: (input, meta) => flows.register(input, meta),
    login: (input, meta) => flows.login(input, meta),
    logout: (input, meta) => flows.logout(input, meta),
    changePassword: (input, meta) => flows.changePassword(input, meta),
    setSessionCookies,
    clearSessionCookies,
    sshKeys,
  };
}
