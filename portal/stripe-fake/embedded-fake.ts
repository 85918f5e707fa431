import { randomBytes } from 'node:crypto';
import type { Config } from '../../appliance/config/schema.js';
import { WEBHOOK_PATH } from '../payments/webhook-route.js';
import { startStripeFake, type StripeFake } from './stripe-fake.js';

/**
 * The embedded default's payment provider: the fake on loopback, posting
 * webhooks to this portal. Returns the `payments` config section to build the
 * SDK client and the payments domain with (same keys on both sides); keys left
 * empty in the config are generated per run.
 */
export async function startEmbeddedStripeFake(
  config: Config,
): Promise<{ fake: StripeFake; payments: Config['payments'] }> {
  const secretKey = config.payments.secretKey || `sk_test_${randomBytes(16).toString('hex')}`;
  const webhookSecret = config.payments.webhookSecret || `whsec_${randomBytes(24).toString('hex')}`;
  const configured = config.payments.apiBase ? new URL(config.payments.apiBase) : null;
  const portalHost = ['0.0.0.0', '::', ''].includes(config.portal.host) ? '127.0.0.1' : config.portal.host;
  const fake = await startStripeFake({
    host: configured?.hostname.replace(/^\[|\]$/g, '') ?? '127.0.0.1',
    port: configured?.port ? Number(configured.port) : 0,
    webhookUrl: `http://${portalHost.includes(':') ? `[${portalHost}]` : portalHost}:${config.portal.port}${WEBHOOK_PATH}`,
    webhookSecret,
    apiKey: secretKey,
  });
  return {
    fake,
    payments: { ...config.payments, provider: 'stripe-fake', secretKey, webhookSecret, apiBase: fake.url },
  };
}
