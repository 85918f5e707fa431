import Stripe from 'stripe';
import type { Config } from '../config/schema.js';
import { TurnpikeError } from '../../shared/errors.js';

/**
 * The one place that builds the SDK client. Real Stripe and the fake differ
 * only in configuration: `apiBase` points the SDK at the fake's host and port.
 */
export function createStripeClient(payments: Config['payments']): Stripe {
  if (payments.provider === 'none')
    throw new TurnpikeError('TP_ERR_CONFIG', 'payments.provider is "none": no payment provider is configured');
  if (!payments.secretKey) throw new TurnpikeError('TP_ERR_CONFIG', 'payments.secretKey is required');
  const options: ConstructorParameters<typeof Stripe>[1] = { maxNetworkRetries: 2, timeout: 20_000 };
  if (payments.apiBase) {
    let base: URL;
    try {
      base = new URL(payments.apiBase);
    } catch {
      throw new TurnpikeError('TP_ERR_CONFIG', `payments.apiBase is not a URL: ${payments.apiBase}`);
    }
    const protocol = base.protocol === 'http:' ? 'http' : 'https';
    options.host = base.hostname.replace(/^\[|\]$/g, '');
    options.port = base.port ? Number(base.port) : protocol === 'http' ? 80 : 443;
    options.protocol = protocol;
  } else if (payments.provider === 'stripe-fake') {
    throw new TurnpikeError('TP_ERR_CONFIG', 'payments.apiBase is required for the stripe-fake provider');
  }
  return new Stripe(payments.secretKey, options);
}
