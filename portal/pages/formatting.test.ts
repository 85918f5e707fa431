import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MESSAGES } from '../i18n/messages.js';
import { formatBytes, formatMoney } from './formatting.js';

describe('amounts on guest and console pages', () => {
  it('writes data amounts the way each language writes numbers', () => {
    assert.equal(formatBytes(1.5 * 1024 ** 3, MESSAGES.en), '1.5 GB');
    assert.equal(formatBytes(1.5 * 1024 ** 3, MESSAGES.de), '1,5 GB');
    assert.equal(formatBytes(20 * 1024 ** 2, MESSAGES.de), '20 MB');
    assert.equal(formatBytes(512, MESSAGES.de), '512 B');
    assert.equal(formatBytes(null, MESSAGES.de), MESSAGES.de.unlimited);
  });

  it('writes prices in the language of the page', () => {
    assert.equal(formatMoney(350, 'EUR', 'en'), '€3.50');
    assert.equal(formatMoney(350, 'EUR', 'de'), '3,50\u00a0€');
  });
});
