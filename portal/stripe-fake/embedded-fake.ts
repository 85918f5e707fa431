import { randomBytes } from 'node:crypto';
import type { Config } from '../../appliance/config/schema.js';
import { WEBHOOK_PATH } from '../payments/webhook-route.js';
import { startStripeFake, type StripeFake } from './stripe-fake.js';

export interface EmbeddedStripeFake {
  fake: StripeFake;
  /** The `payments` config section to build the SDK client and the payments domain with (same keys as the fake). */
  payments: Config['payments'];
  /** Points the fake's webhooks at the portal once it listens. */
  deliverTo(portalUrl: string): void;
}

/**
 * The embedded default's payment provider: the fake on loopback. Keys left
 * empty in the config are generated per run; `payments.apiBase`, when set,
 * fixes the fake's address.
 */
export async function startEmbeddedStripeFake(config: Config): Promise<EmbeddedStripeFake> {
  const secretKey = config.payments.secretKey || `sk_test_${randomBytes(16).toString('hex')}`;
  const webhookSecret = config.payments.webhookSecret || `whsec_${randomBytes(24).toString('hex')}`;
  const configured = config.payments.apiBase ? new URL(config.payments.apiBase) : null;
  const fake = await startStripeFake({
    host: configured?.hostname.replace(/^\[|\]$/g, '') ?? '127.0.0.1',
    port: configured?.port ? Number(configured.port) : 0,
    webhookSecret,
    apiKey: secretKey,
  });
  return {
    fake,
    payments: { ...config.payments, provider: 'stripe-fake', secretKey, webhookSecret, apiBase: fake.url },
    deliverTo: (portalUrl) => fake.setWebhookUrl(`${portalUrl.replace(/\/+$/, '')}${WEBHOOK_PATH}`),
  };
}
