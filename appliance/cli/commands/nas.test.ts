import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../shared/clock.js';
import { loadConfig } from '../../config/load-config.js';
import { silentLogger } from '../../../shared/logger.js';
import { tempStore } from '../../testing/temp-store.js';
import { UsageError, type CommandContext } from '../command.js';
import { NAS_COMMANDS } from './nas.js';

function run(context: CommandContext, ...argv: string[]): Promise<string[]> {
  const command = NAS_COMMANDS.find((c) => c.path.every((part, i) => argv[i] === part))!;
  return command.run(context, argv.slice(command.path.length));
}

async function context(t: TestContext): Promise<CommandContext> {
  const { config } = loadConfig({ env: {}, overrides: {} });
  return {
    config,
    store: await tempStore(t),
    clock: new ManualClock(),
    logger: silentLogger,
    services: undefined as never,
  };
}

test('turnpike nas add --uam-secret stores the CoovaChilli uamsecret, and nas list says set or none without printing it', async (t) => {
  const ctx = await context(t);
  const added = await run(
    ctx,
    'nas',
    'add',
    'lobby',
    '10.1.0.1',
    '--dialect',
    'coovachilli',
    '--uam-secret',
    'uam-s3cret!',
  );
  assert.match(added[0]!, /NAS lobby added for 10\.1\.0\.1 \(coovachilli, CoA port 3799, uam-secret:set\)/);
  await run(ctx, 'nas', 'add', 'bar', '10.2.0.1', '--dialect', 'mikrotik');
  const lobby = Object.values(ctx.store.db.nasClients).find((client) => client.name === 'lobby')!;
  assert.equal(lobby.uamSecret, 'uam-s3cret!', 'the portal hashes the UAM challenge with this');
  const bar = Object.values(ctx.store.db.nasClients).find((client) => client.name === 'bar')!;
  assert.equal('uamSecret' in bar, false, 'no field at all when the NAS has no uamsecret');

  const list = await run(ctx, 'nas', 'list');
  assert.equal(list.length, 2);
  assert.match(list[0]!, /^bar\s.*\suam-secret:none$/);
  assert.match(list[1]!, /^lobby\s.*\suam-secret:set$/);
  assert.ok(!list.join('\n').includes('uam-s3cret!'), 'the secret itself is never listed');
});

test('a blank or spaced --uam-secret is refused and nothing is added; a missing value is a usage error', async (t) => {
  const ctx = await context(t);
  await assert.rejects(run(ctx, 'nas', 'add', 'lobby', '10.1.0.1', '--uam-secret', 'two words'), /uamSecret: 1–128/);
  await assert.rejects(run(ctx, 'nas', 'add', 'lobby', '10.1.0.1', '--uam-secret='), /uamSecret: 1–128/);
  await assert.rejects(run(ctx, 'nas', 'add', 'lobby', '10.1.0.1', '--uam-secret'), UsageError);
  assert.deepEqual(ctx.store.db.nasClients, {});
});
