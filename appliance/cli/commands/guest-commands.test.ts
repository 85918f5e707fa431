import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../shared/clock.js';
import { loadConfig } from '../../config/load-config.js';
import { silentLogger } from '../../../shared/logger.js';
import { tempStore } from '../../testing/temp-store.js';
import { CODE_ALPHABET } from '../../vouchers/codes.js';
import type { CommandContext, StoreCommand } from '../command.js';
import { DHCP_OPTION_COMMANDS } from './dhcp-option.js';
import { PLAN_COMMANDS } from './plan.js';
import { VOUCHER_COMMANDS } from './voucher.js';

const all = [...PLAN_COMMANDS, ...VOUCHER_COMMANDS, ...DHCP_OPTION_COMMANDS];
function run(context: CommandContext, ...argv: string[]): Promise<string[]> {
  const command = all.find((c: StoreCommand) => c.path.every((part, i) => argv[i] === part))!;
  return command.run(context, argv.slice(command.path.length));
}

async function context(t: TestContext, publicUrl = 'https://wifi.example.net'): Promise<CommandContext> {
  const { config } = loadConfig({ env: {}, overrides: { portal: { publicUrl } } });
  return {
    config,
    store: await tempStore(t),
    clock: new ManualClock(),
    logger: silentLogger,
    services: undefined as never,
  };
}

test('turnpike plan list shows the catalogue; voucher create --plan NAME --count N prints that many codes', async (t) => {
  const ctx = await context(t);
  assert.match((await run(ctx, 'plan', 'list'))[0]!, /no plans/);
  await run(ctx, 'plan', 'seed-demo');
  const plans = await run(ctx, 'plan', 'list');
  assert.equal(plans.length, 4);
  assert.match(plans.join('\n'), /One hour\s+2\.00 EUR\s+1 h/);
  const out = await run(ctx, 'voucher', 'create', '--plan', 'one hour', '--count', '5', '--prefix', 'lob');
  assert.match(out[0]!, /5 × One hour/);
  const codes = out.slice(1);
  assert.equal(codes.length, 5);
  for (const code of codes) assert.match(code, new RegExp(`^LOB-[${CODE_ALPHABET}]{5}-[${CODE_ALPHABET}]{5}$`));
  assert.match((await run(ctx, 'voucher', 'list'))[0]!, /One hour\s+0\/5/);
  await run(ctx, 'voucher', 'revoke', codes[0]!);
  assert.notEqual(
    Object.values(ctx.store.db.vouchers).find((v) => v.revokedAt !== null),
    undefined,
  );
  await assert.rejects(run(ctx, 'voucher', 'create', '--plan', 'nope', '--count', '1'), /no plan nope/);
});

test('turnpike dhcp-option prints the RFC 8910 URI and the option 114 lines', async (t) => {
  const lines = await run(await context(t), 'dhcp-option');
  assert.equal(lines[0], 'https://wifi.example.net/captive-portal/api');
  assert.ok(lines.includes('dnsmasq:    dhcp-option=114,"https://wifi.example.net/captive-portal/api"'));
  assert.ok(
    lines.some((line) =>
      line.startsWith('ISC dhcpd:  option default-url "https://wifi.example.net/captive-portal/api";'),
    ),
  );
  assert.ok(lines.some((line) => line.includes('"v4-captive-portal"')));
  const plain = await run(await context(t, 'http://10.0.0.1:8080'), 'dhcp-option');
  assert.match(plain.at(-1)!, /https/);
});
