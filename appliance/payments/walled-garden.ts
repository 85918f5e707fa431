import type { Config } from '../config/schema.js';

/** Stripe Checkout's hosts a guest's browser must reach before login. */
export const STRIPE_CHECKOUT_HOSTS = [
  'checkout.stripe.com',
  'js.stripe.com',
  'm.stripe.network',
  'm.stripe.com',
  'q.stripe.com',
  'b.stripecdn.com',
];

/**
 * Hosts the gateway's walled garden must pass so an unauthenticated guest can
 * pay: the hosted checkout (real Stripe), or the fake's host.
 */
export function paymentWalledGarden(payments: Config['payments']): string[] {
  if (payments.provider === 'none') return [];
  if (payments.provider === 'stripe-fake' || payments.apiBase) {
    return payments.apiBase ? [new URL(payments.apiBase).hostname.replace(/^\[|\]$/g, '')] : [];
  }
  return [...STRIPE_CHECKOUT_HOSTS];
}
