import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../shared/clock.js';
import { isTurnpikeError } from '../../shared/errors.js';
import { tempStore } from '../testing/temp-store.js';
import { localizedText, updateBranding, updateSettings } from './settings.js';

const clock = new ManualClock(Date.UTC(2026, 0, 1));

test('branding comes from the appliance only: an external logo or a bad colour is refused, local ones are kept', async (t) => {
  const store = await tempStore(t);
  const refused = (field: string) => (err: unknown) =>
    isTurnpikeError(err, 'TP_ERR_VALIDATION') && err.details?.field === field;
  await assert.rejects(
    updateBranding(store, clock, { logoUrl: 'https://cdn.example.com/logo.png' }),
    refused('logoUrl'),
  );
  await assert.rejects(updateBranding(store, clock, { logoUrl: '//cdn.example.com/logo.png' }), refused('logoUrl'));
  await assert.rejects(updateBranding(store, clock, { logoUrl: 'javascript:alert(1)' }), refused('logoUrl'));
  await assert.rejects(
    updateBranding(store, clock, { primaryColor: 'red;background:url(x)' }),
    refused('primaryColor'),
  );
  await assert.rejects(updateBranding(store, clock, { termsText: { english: 'x' } }), refused('termsText'));
  const saved = await updateBranding(store, clock, {
    venueName: 'Café Kranzler',
    logoUrl: '/branding/logo.png',
    primaryColor: '#123456',
  });
  assert.equal(saved.venueName, 'Café Kranzler');
  assert.equal(store.db.settings.logoUrl, '/branding/logo.png');
  await updateBranding(store, clock, { logoUrl: 'data:image/png;base64,iVBORw0KGgo=' });
  assert.equal(localizedText({ en: 'Hello', de: 'Hallo' }, 'de'), 'Hallo');
  assert.equal(localizedText({ en: 'Hello' }, 'fr'), 'Hello');
});

test('seller details change field by field; a tax rate invoices cannot represent is refused and nothing changes', async (t) => {
  const store = await tempStore(t);
  const saved = await updateSettings(store, clock, {
    venueName: 'Bar',
    seller: { name: 'Bar GmbH', taxRatePercent: 7.5 },
  });
  assert.deepEqual(saved.seller, { name: 'Bar GmbH', address: '', taxId: '', taxRatePercent: 7.5 });
  const before = structuredClone(store.db.settings);
  for (const seller of [{ taxRatePercent: 19.125 }, { taxRatePercent: -1 }, { name: ' ' }, { taxId: 'x'.repeat(65) }]) {
    await assert.rejects(
      updateSettings(store, clock, { venueName: 'Changed', seller }),
      (err: unknown) => isTurnpikeError(err, 'TP_ERR_VALIDATION') && String(err.details?.field).startsWith('seller.'),
    );
  }
  assert.deepEqual(store.db.settings, before);
});
