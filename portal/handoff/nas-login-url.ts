import { createHash } from 'node:crypto';
import type { NasClient, PortalCredential } from '../../appliance/domain/model.js';
import { chapDigest } from '../../appliance/credentials/chap.js';
import type { CoovaHandoff, Handoff, MikrotikHandoff } from './handoff-params.js';

function hostPart(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

/**
 * CoovaChilli's UAM challenge as the NAS will use it: with a `uamsecret`
 * configured, chilli hashes MD5(challenge || uamsecret) before CHAP.
 */
export function coovaChallenge(handoff: CoovaHandoff, uamSecret: string | undefined): Buffer {
  const raw = Buffer.from(handoff.challenge, 'hex');
  if (!uamSecret) return raw;
  return createHash('md5').update(raw).update(uamSecret).digest();
}

/** `http://uamip:uamport/logon?username=…&response=…` with CHAP ident 0, as chilli's UAM expects. */
function coovaLogonUrl(handoff: CoovaHandoff, nas: NasClient | undefined, credential: PortalCredential): string {
  const challenge = coovaChallenge(handoff, nas?.uamSecret);
  const url = new URL(`http://${hostPart(handoff.uamip)}:${handoff.uamport}/logon`);
  url.searchParams.set('username', credential.username);
  url.searchParams.set('response', chapDigest(0, credential.password, challenge).toString('hex'));
  if (handoff.userurl) url.searchParams.set('userurl', handoff.userurl);
  return url.href;
}

/** MikroTik's `link-login-only` with `password` = hex MD5(chap-id || password || chap-challenge), or PAP. */
function mikrotikLoginUrl(handoff: MikrotikHandoff, credential: PortalCredential): string {
  const url = new URL(handoff.loginUrl);
  url.searchParams.set('username', credential.username);
  if (handoff.chapId !== null && handoff.chapChallenge !== null) {
    const id = Buffer.from(handoff.chapId, 'hex')[0] ?? 0;
    url.searchParams.set(
      'password',
      chapDigest(id, credential.password, Buffer.from(handoff.chapChallenge, 'hex')).toString('hex'),
    );
  } else {
    url.searchParams.set('password', credential.password);
  }
  if (handoff.orig) url.searchParams.set('dst', handoff.orig);
  url.searchParams.set('popup', 'false');
  return url.href;
}

/** Where to send the browser so that the NAS logs the guest in with the one-time credential. */
export function nasLoginUrl(handoff: Handoff, nas: NasClient | undefined, credential: PortalCredential): string {
  return handoff.kind === 'coovachilli'
    ? coovaLogonUrl(handoff, nas, credential)
    : mikrotikLoginUrl(handoff, credential);
}

/** CoovaChilli's logoff URL, so "log out" ends the session at the NAS too. */
export function nasLogoffUrl(handoff: Handoff): string | null {
  return handoff.kind === 'coovachilli' ? `http://${hostPart(handoff.uamip)}:${handoff.uamport}/logoff` : null;
}
