import { BlockList, isIP } from 'node:net';
import { TurnpikeError } from '../../shared/errors.js';
import type { ProvisionerClient } from './provisioner-client.js';

export interface ProvisionerTarget {
  /** Operator's name for the gateway host, e.g. `lobby`. */
  site: string;
  client: ProvisionerClient;
  /** Guest networks this gateway serves; empty = the fallback for any address. */
  clientCidrs: string[];
  /** This host carries the SSH/FTP accounts. */
  accounts: boolean;
}

interface Compiled extends ProvisionerTarget {
  networks: BlockList;
}

function compile(cidrs: string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [addr = '', prefix] = cidr.split('/');
    const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (isIP(addr) === 0) throw new TurnpikeError('TP_ERR_CONFIG', `provisioner target: ${cidr} is not a CIDR`);
    if (prefix === undefined) list.addAddress(addr, family);
    else list.addSubnet(addr, Number(prefix), family);
  }
  return list;
}

/**
 * Per-site routing over the configured provisioners (one per gateway host): a
 * guest address goes to the gateway whose networks contain it, else to the
 * fallback target (one with no networks listed).
 */
export class ProvisionerRouter {
  readonly #targets: Compiled[];

  constructor(targets: ProvisionerTarget[]) {
    this.#targets = targets.map((t) => ({ ...t, networks: compile(t.clientCidrs) }));
  }

  all(): readonly ProvisionerTarget[] {
    return this.#targets;
  }

  forClient(ip: string): ProvisionerTarget {
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    const match =
      this.#targets.find((t) => t.clientCidrs.length > 0 && t.networks.check(ip, family)) ??
      this.#targets.find((t) => t.clientCidrs.length === 0);
    if (!match) throw new TurnpikeError('TP_ERR_UNAVAILABLE', `no provisioner serves ${ip}`);
    return match;
  }

  accountTargets(): readonly ProvisionerTarget[] {
    return this.#targets.filter((t) => t.accounts);
  }

  start(): void {
    for (const t of this.#targets) t.client.start();
  }

  close(): void {
    for (const t of this.#targets) t.client.close();
  }
}
