import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTurnpikeError } from '../errors.js';
import { tempStore } from '../testing/temp-store.js';
import { localizedText, updateBranding } from './settings.js';

test('branding comes from the appliance only: an external logo or a bad colour is refused, local ones are kept', async (t) => {
  const store = await tempStore(t);
  const refused = (field: string) => (err: unknown) =>
    isTurnpikeError(err, 'TP_ERR_VALIDATION') && err.details?.field === field;
  await assert.rejects(updateBranding(store, { logoUrl: 'https://cdn.example.com/logo.png' }), refused('logoUrl'));
  await assert.rejects(updateBranding(store, { logoUrl: '//cdn.example.com/logo.png' }), refused('logoUrl'));
  await assert.rejects(updateBranding(store, { logoUrl: 'javascript:alert(1)' }), refused('logoUrl'));
  await assert.rejects(updateBranding(store, { primaryColor: 'red;background:url(x)' }), refused('primaryColor'));
  await assert.rejects(updateBranding(store, { termsText: { english: 'x' } }), refused('termsText'));
  const saved = await updateBranding(store, {
    venueName: 'Café Kranzler',
    logoUrl: '/branding/logo.png',
    primaryColor: '#123456',
  });
  assert.equal(saved.venueName, 'Café Kranzler');
  assert.equal(store.db.settings.logoUrl, '/branding/logo.png');
  await updateBranding(store, { logoUrl: 'data:image/png;base64,iVBORw0KGgo=' });
  assert.equal(localizedText({ en: 'Hello', de: 'Hallo' }, 'de'), 'Hallo');
  assert.equal(localizedText({ en: 'Hello' }, 'fr'), 'Hello');
});
