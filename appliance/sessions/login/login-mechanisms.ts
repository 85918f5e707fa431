import { accountPassword } from './account-password.js';
import { macAuth } from './mac-auth.js';
import type { LoginMechanism } from './login-mechanism.js';
import { portalCredential } from './portal-credential.js';
import { voucher } from './voucher.js';

/**
 * The login mechanisms in the order they are asked; the first that claims a request decides it.
 * A portal credential is an exact key, so it goes first; a voucher code before a MAC, since a
 * code could spell one; an account last, as the only one that may cost a bcrypt.
 */
export const LOGIN_MECHANISMS: readonly LoginMechanism[] = [portalCredential, voucher, macAuth, accountPassword];
