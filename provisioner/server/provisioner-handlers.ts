import {
  AccountService,
  type AccountUsageRequest,
  type AccountUsageResponse,
  type AllowClientRequest,
  type AllowClientResponse,
  type Client,
  type DeleteAccountRequest,
  type DeleteAccountResponse,
  type EnsureAccountRequest,
  type EnsureAccountResponse,
  type GetStateRequest,
  type GetStateResponse,
  type ListClientsRequest,
  type ListClientsResponse,
  type RevokeClientRequest,
  type RevokeClientResponse,
  type SetWalledGardenRequest,
  type SetWalledGardenResponse,
  type SuspendAccountRequest,
  type SuspendAccountResponse,
} from '../../proto/gen/turnpike/provisioner/v1/provisioner.js';
import type { AccountDriver, AccountService as Service, ClientEntry, FirewallDriver } from '../drivers/driver.js';
import {
  MAX_GARDEN_ENTRIES,
  MAX_KBPS,
  MAX_KEYS,
  MAX_SECONDS,
  assertAuthorizedKey,
  assertCidr,
  assertDomain,
  assertIntRange,
  assertIp,
  assertList,
  assertLogin,
  assertMac,
  assertPasswordHash,
  assertServices,
  assertSessionId,
} from '../validation.js';
import type { Unary } from './unary.js';

/** The service's methods as plain async functions; wire concerns live in the wrappers. */
export interface ProvisionerHandlers {
  allowClient: Unary<AllowClientRequest, AllowClientResponse>;
  revokeClient: Unary<RevokeClientRequest, RevokeClientResponse>;
  listClients: Unary<ListClientsRequest, ListClientsResponse>;
  setWalledGarden: Unary<SetWalledGardenRequest, SetWalledGardenResponse>;
  ensureAccount: Unary<EnsureAccountRequest, EnsureAccountResponse>;
  suspendAccount: Unary<SuspendAccountRequest, SuspendAccountResponse>;
  deleteAccount: Unary<DeleteAccountRequest, DeleteAccountResponse>;
  accountUsage: Unary<AccountUsageRequest, AccountUsageResponse>;
  getState: Unary<GetStateRequest, GetStateResponse>;
}

const SERVICE_NAMES: Record<number, Service | undefined> = {
  [AccountService.ACCOUNT_SERVICE_SSH]: 'ssh',
  [AccountService.ACCOUNT_SERVICE_FTP]: 'ftp',
};
const SERVICE_ENUM: Record<Service, AccountService> = {
  ssh: AccountService.ACCOUNT_SERVICE_SSH,
  ftp: AccountService.ACCOUNT_SERVICE_FTP,
};
const MAX_EXPIRES_AT = 2 ** 40;
const MAX_QUOTA = 2 ** 50;

function toClient(c: ClientEntry): Client {
  return {
    ip: c.ip,
    mac: c.mac,
    sessionId: c.sessionId,
    upKbps: c.upKbps,
    downKbps: c.downKbps,
    remainingSeconds: Math.max(0, c.remainingSeconds),
    packets: c.packets,
    bytes: c.bytes,
  };
}

export function createProvisionerHandlers(d: {
  firewall: FirewallDriver;
  accounts: AccountDriver;
  firewallName: string;
  accountsName: string;
}): ProvisionerHandlers {
  return {
    async allowClient(req) {
      await d.firewall.allow({
        ip: assertIp('ip', req.ip),
        mac: assertMac('mac', req.mac),
        seconds: assertIntRange('seconds', req.seconds, 1, MAX_SECONDS),
        upKbps: assertIntRange('up_kbps', req.upKbps, 0, MAX_KBPS),
        downKbps: assertIntRange('down_kbps', req.downKbps, 0, MAX_KBPS),
        sessionId: assertSessionId('session_id', req.sessionId),
      });
      return {};
    },

    async revokeClient(req) {
      // The MAC and session id may be unknown to a caller cleaning up an orphan; the address is the key.
      await d.firewall.revoke({
        ip: assertIp('ip', req.ip),
        mac: req.mac === '' ? '' : assertMac('mac', req.mac),
        sessionId: req.sessionId === '' ? '' : assertSessionId('session_id', req.sessionId),
      });
      return {};
    },

    async listClients() {
      return { clients: (await d.firewall.list()).map(toClient) };
    },

    async setWalledGarden(req) {
      const domains = assertList('domains', req.domains, MAX_GARDEN_ENTRIES).map((v, i) =>
        assertDomain(`domains[${i}]`, v),
      );
      const cidrs = assertList('cidrs', req.cidrs, MAX_GARDEN_ENTRIES).map((v, i) => assertCidr(`cidrs[${i}]`, v));
      await d.firewall.setWalledGarden({ domains: [...new Set(domains)].sort(), cidrs: [...new Set(cidrs)].sort() });
      return {};
    },

    async ensureAccount(req) {
      const services = req.services.map((s) => SERVICE_NAMES[s] ?? 'unknown');
      await d.accounts.ensure({
        login: assertLogin('login', req.login),
        passwordHash: assertPasswordHash('password_hash', req.passwordHash),
        authorizedKeys: assertList('authorized_keys', req.authorizedKeys, MAX_KEYS).map((k, i) =>
          assertAuthorizedKey(`authorized_keys[${i}]`, k),
        ),
        services: assertServices('services', services),
        expiresAt: assertIntRange('expires_at', req.expiresAt, 0, MAX_EXPIRES_AT),
        ftpQuotaBytes: assertIntRange('ftp_quota_bytes', req.ftpQuotaBytes, 0, MAX_QUOTA),
      });
      return {};
    },

    async suspendAccount(req) {
      await d.accounts.suspend(assertLogin('login', req.login));
      return {};
    },

    async deleteAccount(req) {
      await d.accounts.delete(assertLogin('login', req.login));
      return {};
    },

    async accountUsage(req) {
      return d.accounts.usage(assertLogin('login', req.login));
    },

    async getState() {
      const [fw, accounts] = await Promise.all([d.firewall.state(), d.accounts.state()]);
      return {
        clients: fw.clients.map(toClient),
        walledGardenDomains: fw.walledGarden.domains,
        walledGardenCidrs: fw.walledGarden.cidrs,
        accounts: accounts.map((a) => ({
          login: a.login,
          services: a.services.map((s) => SERVICE_ENUM[s]),
          suspended: a.suspended,
          expiresAt: a.expiresAt,
          ftpQuotaBytes: a.ftpQuotaBytes,
        })),
        firewallDriver: d.firewallName,
        accountDriver: d.accountsName,
      };
    },
  };
}
