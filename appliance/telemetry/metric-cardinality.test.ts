import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type RunningAppliance } from '../main.js';
import { AcctStatus, Attr } from '../../radius/protocol/constants.js';
import { textTlv, tlv } from '../../radius/protocol/encode.js';
import { accessRequest, accountingRequest, TestClient } from '../../radius/test-packets.js';
import { startEmbeddedAppliance } from '../testing/embedded-appliance.js';

/** Label names that would mean one series per guest, device or address. */
const FORBIDDEN_LABELS =
  /^(user|user_?id|user_?name|email|login|mac|calling_station(_id)?|ip|address|client_?ip|session|session_?id|acct_session_id|voucher|device|owner|owner_?key)$/i;
const MAC = /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const IPV6 = /^[0-9a-f]*:[0-9a-f:]+$/i;
const EMAIL = /@/;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

interface Sample {
  name: string;
  labels: Record<string, string>;
}

/** Parses the Prometheus text format into samples (name and labels; values are not needed here). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels });
  }
  return samples;
}

async function scrape(appliance: RunningAppliance): Promise<Sample[]> {
  return parseExposition(await (await fetch(`${appliance.metricsUrl}/metrics`)).text());
}

/** Series per metric, ignoring histogram bucket boundaries. */
function seriesCounts(samples: Sample[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const s of samples) counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
  return counts;
}

/** Guests as the network sees them: each with its own name, MAC, address and sessions, over RADIUS and HTTP. */
async function guestsArrive(appliance: RunningAppliance, secret: string, from: number, count: number): Promise<void> {
  const client = await TestClient.open();
  const key = Buffer.from(secret);
  const { authPort, acctPort } = appliance.radius!;
  try {
    for (let i = from; i < from + count; i++) {
      const mac = `02-00-00-${(i >> 16) & 0xff}-${(i >> 8) & 0xff}-${i & 0xff}`.replace(
        /-(\d+)/g,
        (_, n: string) => `-${Number(n).toString(16).padStart(2, '0')}`,
      );
      const ip = Buffer.from([10, 50, (i >> 8) & 0xff, i & 0xff]);
      await client.exchange(
        accessRequest({
          identifier: i % 256,
          secret: key,
          userName: `guest${i}@example.org`,
          password: `wrong-${i}`,
          callingStationId: mac,
        }),
        authPort,
        3000,
      );
      await client.exchange(
        accountingRequest({
          identifier: i % 256,
          secret: key,
          status: AcctStatus.Start,
          sessionId: `acct-${randomUUID()}`,
          extra: [
            textTlv(Attr.CallingStationId, mac),
            tlv(Attr.FramedIpAddress, ip),
            textTlv(Attr.UserName, `guest${i}`),
          ],
        }),
        acctPort,
        3000,
      );
      // A packet signed with the wrong secret: dropped, counted by cause.
      client.send(
        accountingRequest({ identifier: i % 256, secret: Buffer.from('wrong'), status: 1, sessionId: `x${i}` }),
        acctPort,
      );
      await fetch(`${appliance.portalUrl}/portal?mac=${mac}&ip=10.50.0.${i % 250}&user=guest${i}`);
      await fetch(`${appliance.portalUrl}/no-such-page/${randomUUID()}`);
    }
  } finally {
    await client.close();
  }
}

test('no metric carries a per-user, per-MAC or per-IP label: more guests never mean more series', async (t) => {
  const { appliance } = await startEmbeddedAppliance(t, {
    overrides: {},
  });
  const secret = appliance.localNasSecret!;

  await guestsArrive(appliance, secret, 0, 5);
  const before = await scrape(appliance);
  await guestsArrive(appliance, secret, 5, 40);
  const after = await scrape(appliance);

  const radius = after.filter((s) => s.name === 'turnpike_radius_requests_total');
  assert.ok(
    radius.some((s) => s.labels.outcome === 'reject'),
    'the RADIUS requests were counted',
  );
  assert.ok(
    after.some((s) => s.name === 'turnpike_radius_dropped_total' && s.labels.cause === 'bad-authenticator'),
    'the forged packets were counted by cause',
  );
  assert.ok(
    radius.some((s) => s.labels.type === 'accounting' && s.labels.outcome === 'acknowledged'),
    'the accounting requests were counted',
  );

  for (const sample of after) {
    for (const [label, value] of Object.entries(sample.labels)) {
      const where = `${sample.name}{${label}="${value}"}`;
      assert.doesNotMatch(label, FORBIDDEN_LABELS, `${where}: a label per guest`);
      for (const shape of [MAC, IPV4, IPV6, EMAIL, UUID]) {
        assert.doesNotMatch(value, shape, `${where}: a guest identifier as a label value`);
      }
      assert.doesNotMatch(value, /guest\d+|acct-|no-such-page/, `${where}: guest input as a label value`);
    }
  }
  const grown = [...seriesCounts(after)].filter(([name, n]) => n > (seriesCounts(before).get(name) ?? 0));
  assert.deepEqual(grown, [], 'series that grew with the number of guests');
});
