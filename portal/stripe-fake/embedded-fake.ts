import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ensurePrivateDir } from '../../appliance/store/durable-file.js';
import type { Config } from '../../appliance/config/schema.js';
import { WEBHOOK_PATH } from '../payments/webhook-route.js';
import { readFakeState } from './fake-state-file.js';
import { startStripeFake, type StripeFake } from './stripe-fake.js';

/** The embedded fake's own file beside the store: its objects outlive a restart as the store's ids do. */
export const FAKE_STATE_FILE = 'stripe-fake.json';

export interface EmbeddedStripeFake {
  fake: StripeFake;
  /** The `payments` config section to build the SDK client and the payments domain with (same keys as the fake). */
  payments: Config['payments'];
  /** Points the fake's webhooks at the portal once it listens. */
  deliverTo(portalUrl: string): void;
}

/**
 * The embedded default's payment provider: the fake on loopback, its state in
 * `<dataDir>/stripe-fake.json`. Keys left empty in the config are generated at the first
 * start and kept in that file; `payments.apiBase`, when set, fixes the fake's address.
 */
export async function startEmbeddedStripeFake(config: Config): Promise<EmbeddedStripeFake> {
  await ensurePrivateDir(config.dataDir);
  const stateFile = join(config.dataDir, FAKE_STATE_FILE);
  const saved = (await readFakeState(stateFile))?.keys;
  const secretKey = config.payments.secretKey || saved?.apiKey || `sk_test_${randomBytes(16).toString('hex')}`;
  const webhookSecret =
    config.payments.webhookSecret || saved?.webhookSecret || `whsec_${randomBytes(24).toString('hex')}`;
  const configured = config.payments.apiBase ? new URL(config.payments.apiBase) : null;
  const fake = await startStripeFake({
    host: configured?.hostname.replace(/^\[|\]$/g, '') ?? '127.0.0.1',
    port: configured?.port ? Number(configured.port) : 0,
    webhookSecret,
    apiKey: secretKey,
    stateFile,
  });
  return {
    fake,
    payments: { ...config.payments, provider: 'stripe-fake', secretKey, webhookSecret, apiBase: fake.url },
    deliverTo: (portalUrl) => fake.setWebhookUrl(`${portalUrl.replace(/\/+$/, '')}${WEBHOOK_PATH}`),
  };
}
