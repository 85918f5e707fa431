import { captivePortalUri } from '../../guest-access/captive-portal-uri.js';
import type { StoreCommand } from '../command.js';

/** The DHCP option 114 lines for the common servers (RFC 8910). */
export function dhcpOptionLines(uri: string): string[] {
  return [
    uri,
    '',
    `dnsmasq:    dhcp-option=114,"${uri}"`,
    `ISC dhcpd:  option default-url "${uri}";`,
    `Kea:        "option-data": [ { "name": "v4-captive-portal", "data": "${uri}" } ]`,
    'IPv6:       the same URI in DHCPv6 option 103 (Kea: v6-captive-portal) or RA option 37',
  ];
}

const dhcpOption: StoreCommand = {
  kind: 'store',
  path: ['dhcp-option'],
  usage: 'dhcp-option',
  summary: 'print the RFC 8910 captive-portal URI (DHCP option 114) and config lines for dnsmasq, ISC dhcpd, Kea',
  mutates: false,
  async run({ config }) {
    const uri = captivePortalUri(config);
    const lines = dhcpOptionLines(uri);
    if (!uri.startsWith('https://')) {
      lines.push('', 'note: RFC 8908 clients only use an https:// API URI; set portal.publicUrl to the HTTPS address.');
    }
    return lines;
  },
};

export const DHCP_OPTION_COMMANDS: StoreCommand[] = [dhcpOption];
