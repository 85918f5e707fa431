import type { Config } from '../config/schema.js';

/** Where the portal serves the RFC 8908 Captive Portal API. */
export const CAPTIVE_API_PATH = '/captive-portal/api';

/** The API URI that DHCP option 114 / RA option 37 (RFC 8910) announce. */
export function captivePortalUri(config: Config): string {
  return `${config.portal.publicUrl.replace(/\/$/, '')}${CAPTIVE_API_PATH}`;
}
