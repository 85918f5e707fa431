import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../config/load-config.js';
import { paymentWalledGarden } from './walled-garden.js';

const paymentsOf = (payments: Record<string, unknown>) => validateConfig({ payments }, 'test').payments;

test('the walled garden opens the checkout host for the configured provider only', () => {
  assert.deepEqual(paymentWalledGarden(paymentsOf({})), []);
  assert.deepEqual(paymentWalledGarden(paymentsOf({ provider: 'stripe-fake', apiBase: 'http://10.1.0.1:12111' })), [
    '10.1.0.1',
  ]);
  assert.ok(paymentWalledGarden(paymentsOf({ provider: 'stripe' })).includes('checkout.stripe.com'));
});
