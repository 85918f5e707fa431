import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { AccountService } from '../../appliance/accounts/account-service.js';
import type { Clock } from '../../shared/clock.js';
import type { Role } from '../../appliance/domain/model.js';
import { totpCode } from '../../appliance/accounts/totp.js';
import type { AuthHarness } from '../auth/auth-test-harness.js';
import { FormClient } from '../testing/form-client.js';

/** What signing in through the console needs of a running portal. */
export interface ConsoleWorld {
  app: FastifyInstance;
  accounts: AccountService;
  clock: Clock & { advance?(ms: number): void };
}

export const STAFF_PASSWORD = 'Harbour-Lights-Evening-77';

/** The TOTP secret as the enrolment page prints it (groups of four). */
export function secretOnPage(html: string): string {
  const match = /id="totp-secret">([A-Z2-7 ]+)</.exec(html);
  assert.ok(match, 'the enrolment page shows the secret');
  return match[1]!.replace(/ /g, '');
}

/**
 * A staff member signed in through the console's own forms, security setup done: password
 * sign-in, TOTP enrolment from the page, recovery codes seen once.
 */
export async function consoleStaff(
  world: AuthHarness | ConsoleWorld,
  role: Exclude<Role, 'guest'>,
  email = `${role}-${Math.random().toString(36).slice(2)}@example.test`,
): Promise<{ browser: FormClient; secret: string; userId: string; email: string }> {
  const h: ConsoleWorld =
    'auth' in world ? { app: world.app, accounts: world.auth.accounts, clock: world.clock } : world;
  const created = await h.accounts.users.createUser({ email, role, password: STAFF_PASSWORD }, null);
  const browser = new FormClient(h.app);
  await browser.get('/admin/login');
  const login = await browser.post('/admin/login', { email, password: STAFF_PASSWORD });
  assert.equal(login.headers.location, '/admin/setup');
  const enrol = await browser.get('/admin/setup/mfa');
  const secret = secretOnPage(enrol.body);
  const confirmed = await browser.post('/admin/setup/mfa', { code: totpCode(secret, h.clock.now()) });
  assert.equal(confirmed.statusCode, 200, confirmed.body);
  // The next sign-in needs the next TOTP step; a manual clock gets there at once.
  h.clock.advance?.(30_000);
  return { browser, secret, userId: created.user.id, email };
}
