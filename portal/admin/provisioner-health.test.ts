import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../appliance/config/load-config.js';
import { createProvisioning } from '../../appliance/provisioning/create-provisioning.js';
import { startEmbeddedProvisioner } from '../../appliance/provisioning/embedded-provisioner.js';
import { silentLogger } from '../../shared/logger.js';
import { startAuthHarness } from '../auth/auth-test-harness.js';
import { consoleStaff } from './console-test-kit.js';

test('the dashboard shows each site’s provisioner: a reachable one with its last call, an unreachable one with its error', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tp-h11a-prov-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tlsDir = join(dir, 'pki');
  const embedded = await startEmbeddedProvisioner({ tlsDir, logger: silentLogger });
  t.after(() => embedded.stop());
  const h = await startAuthHarness({ withGuestJourney: true, provisioners: () => provisioning.health.sites() });
  t.after(() => h.close());
  // A real provisioner at the "lobby" site, and a "garage" site whose host is off (nothing listens on port 1).
  const provisioning = await createProvisioning({
    config: validateConfig({ dataDir: join(dir, 'var'), provisioner: { tlsDir, callTimeoutMs: 500 } }, 'test'),
    store: h.store,
    logger: silentLogger,
    clock: h.clock,
    extraTargets: [
      { site: 'lobby', address: embedded.address },
      { site: 'garage', address: '127.0.0.1:1' },
    ],
  });
  t.after(() => provisioning.stop());
  for (const target of provisioning.router.all()) await target.client.checkHealth();
  await provisioning.reconciler.reconcileOnce();

  const [garage, lobby] = provisioning.health.sites();
  assert.equal(lobby?.reachable, true);
  assert.equal(lobby?.lastRound?.failures, 0);
  assert.equal(lobby?.lastOkAt, h.clock.now());
  assert.equal(garage?.reachable, false);
  assert.equal(garage?.lastOkAt, null);
  assert.ok(garage?.lastError, 'the unreachable site has an error to show');
  assert.ok(lobby!.certificateExpiresAt! > h.clock.now() + 30 * 86_400_000, 'the PKI is fresh');

  const admin = await consoleStaff(h, 'admin');
  const page = await admin.browser.get('/admin');
  assert.equal(page.statusCode, 200);
  const table = /<table id="provisioners">([\s\S]*?)<\/table>/.exec(page.body)?.[1];
  assert.ok(table, 'the dashboard has a provisioner table');
  const rows = table.split('<tr>').slice(2);
  assert.equal(rows.length, 2, 'one row per site');
  const [garageRow, lobbyRow] = rows as [string, string];
  assert.match(lobbyRow, /lobby/);
  assert.match(lobbyRow, /<td class="ok">reachable<\/td>/);
  assert.match(lobbyRow, /<td class="num">\d+ \/ 0<\/td>/, 'the last round: what it corrected, nothing failed');
  assert.match(garageRow, /garage <span class="hint mono">127\.0\.0\.1:1<\/span>/);
  assert.match(garageRow, /<td class="bad">unreachable<\/td>/);
  assert.match(garageRow, /not yet/, 'never reached');
  assert.match(garageRow, /<div class="hint mono">[^<]*(UNAVAILABLE|No connection|connect|health check)[^<]*<\/div>/i);
  assert.match(garageRow, /<td class="num">0 \/ 1<\/td>/, 'the last round failed there');
  const expiry = new Date(lobby!.certificateExpiresAt!).getUTCFullYear();
  assert.match(lobbyRow, new RegExp(String(expiry)), 'the certificate expiry is shown');
});
