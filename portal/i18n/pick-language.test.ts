import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pickLanguage } from './messages.js';

describe('the guest’s language', () => {
  it('an explicit choice wins over the browser', () => {
    assert.equal(pickLanguage('en', 'de-DE,de;q=0.9'), 'en');
  });

  it('otherwise the browser’s most preferred language we speak, by q value', () => {
    assert.equal(pickLanguage(undefined, 'fr-FR,fr;q=0.9,de;q=0.8,en;q=0.7'), 'de');
    assert.equal(pickLanguage(undefined, 'en;q=0.5,de;q=0.6'), 'de');
    assert.equal(pickLanguage(undefined, 'de;q=0,en'), 'en');
  });

  it('English when nothing matches or nothing is sent, asked again and again', () => {
    for (let i = 0; i < 3; i++) {
      assert.equal(pickLanguage(undefined, 'fr,it'), 'en');
      assert.equal(pickLanguage(undefined, undefined), 'en');
      assert.equal(pickLanguage(undefined, 'de-AT'), 'de');
    }
  });

  it('stays right past its memory of headers', () => {
    for (let i = 0; i < 600; i++) assert.equal(pickLanguage(undefined, `x${i},de;q=0.${(i % 9) + 1}`), 'de');
  });
});
