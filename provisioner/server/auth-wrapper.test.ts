import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { signCallToken } from '../../appliance/provisioning/call-token.js';
import { authWrapper } from './auth-wrapper.js';
import type { CallContext } from './unary.js';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');

function contextWith(token: string): CallContext {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return { method: 'AllowClient', metadata, deadline: Infinity, signal: new AbortController().signal, peer: 'test' };
}

describe('call tokens checked once, then by the clock', () => {
  it('a reused token is accepted until it expires, and refused after, though it was verified before', async () => {
    const issued = Date.now();
    let now = issued;
    let reached = 0;
    const handler = authWrapper({ publicKey, now: () => now })(async () => ++reached);
    const token = await signCallToken(privateKey, { now: issued, lifetimeSeconds: 30 });
    for (let i = 0; i < 3; i++) await handler({}, contextWith(token));
    now = issued + 34_000; // within the 5 s clock tolerance
    await handler({}, contextWith(token));
    assert.equal(reached, 4);
    now = issued + 36_000;
    await assert.rejects(handler({}, contextWith(token)), { code: 'TP_ERR_TOKEN_INVALID' });
    assert.equal(reached, 4, 'the expired call never reached the handler');
  });

  it('a token whose signature was altered is refused even after the genuine one was accepted', async () => {
    const handler = authWrapper({ publicKey })(async () => 'ok');
    const token = await signCallToken(privateKey, { now: Date.now() });
    assert.equal(await handler({}, contextWith(token)), 'ok');
    const forged = `${token.slice(0, -4)}${token.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    await assert.rejects(handler({}, contextWith(forged)), { code: 'TP_ERR_TOKEN_INVALID' });
  });
});
