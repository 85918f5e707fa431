import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { hasTool, isRoot, requireSystem } from '../../../appliance/testing/system-tools.js';
import { NetnsLab } from './netns-lab.js';
import { NftRunner } from './nft-runner.js';
import { NftRefusal, NftSession } from './nft-session.js';

const NEEDS = { tools: ['nft', 'ip'], root: true };
const available = NEEDS.tools.every(hasTool) && isRoot();
const T = 'inet tpsession';

function elements(n: number, from = 0): string {
  return Array.from({ length: n }, (_, i) => {
    const k = from + i;
    return `10.${k >> 16}.${(k >> 8) & 255}.${k & 255} timeout 1h comment "sid=s${k};mac=02:00:00:00:00:01;up=0;down=0"`;
  }).join(', ');
}

describe('long-lived nft sessions in a network namespace', () => {
  const lab = new NetnsLab();
  const prefix = (): string[] => ['ip', 'netns', 'exec', lab.gw];
  let session: NftSession;

  before(async () => {
    if (!available) return;
    await lab.create({ withClient: false, withInet: false });
    session = new NftSession({ commandPrefix: prefix(), flags: ['-j'] });
    await session.send(`add table ${T}`);
    await session.send(`add set ${T} s { type ipv4_addr; flags timeout; counter; }`);
  });

  after(async () => {
    if (!available) return;
    session.close();
    await lab.destroy();
  });

  const need = (t: TestContext): boolean => requireSystem(t, NEEDS);
  const listed = async (s: NftSession): Promise<string[]> => {
    const out = JSON.parse(await s.send(`list set ${T} s`)) as {
      nftables: Array<{ set?: { elem?: Array<{ elem: { val: string } }> } }>;
    };
    return (out.nftables.find((o) => o.set)?.set?.elem ?? []).map((e) => e.elem.val);
  };

  it('answers pipelined commands in order from one process, and reads back what it added', async (t) => {
    if (!need(t)) return;
    const adds = Array.from({ length: 50 }, (_, i) => session.send(`add element ${T} s { 10.1.0.${i + 1} }`));
    await Promise.all(adds);
    const vals = await listed(session);
    for (let i = 1; i <= 50; i++) assert.ok(vals.includes(`10.1.0.${i}`), `10.1.0.${i}`);
    assert.equal(session.starts, 1, 'no process was started per command');
    await session.send(`flush set ${T} s`);
  });

  it('a refused command fails alone, names what nft pointed at, and the session goes on', async (t) => {
    if (!need(t)) return;
    const ok = session.send(`add element ${T} s { 10.2.0.1 }`);
    const bad = session.send(`add element ${T} s { 10.2.0.1 }; add element ${T} s { 10.2.0.300 }`);
    const later = session.send(`add element ${T} s { 10.2.0.2 }`);
    await ok;
    const err = await bad.then(
      () => assert.fail('accepted an address nft cannot parse'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof NftRefusal);
    assert.deepEqual(err.offending, ['10.2.0.300']);
    assert.match(err.message, /^Error: .*\(at "10\.2\.0\.300"\)$/);
    await later;
    assert.deepEqual((await listed(session)).sort(), ['10.2.0.1', '10.2.0.2']);
    await session.send(`flush set ${T} s`);
  });

  it('a changes-only session answers from stderr alone: pipelined changes in order, a refusal naming its value', async (t) => {
    if (!need(t)) return;
    const s = new NftSession({ commandPrefix: prefix(), changesOnly: true });
    const results = await Promise.allSettled([
      ...Array.from({ length: 20 }, (_, i) => s.send(`add element ${T} s { 10.9.0.${i + 1} }`)),
      s.send(`add element ${T} s { 10.9.0.300 }`),
      s.send(`delete element ${T} s { 10.9.0.1 }`),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 21);
    const refused = results[20] as PromiseRejectedResult;
    assert.ok(refused.reason instanceof NftRefusal);
    assert.deepEqual(refused.reason.offending, ['10.9.0.300']);
    const vals = await listed(session);
    assert.equal(vals.length, 19);
    assert.ok(!vals.includes('10.9.0.1'), 'the delete ran after the add it followed');
    s.close();
    await session.send(`flush set ${T} s`);
  });

  it('one line is one transaction: a refused element leaves the others of its line uncommitted', async (t) => {
    if (!need(t)) return;
    await session
      .send(`add element ${T} s { 10.3.0.1 }; add element ${T} s { 10.3.0.999 }; add element ${T} s { 10.3.0.2 }`)
      .catch(() => undefined);
    assert.deepEqual(await listed(session), []);
  });

  it('a killed nft is replaced and what was in flight is answered by the new process', async (t) => {
    if (!need(t)) return;
    const s = new NftSession({ commandPrefix: prefix(), flags: ['-j'] });
    await s.send(`add element ${T} s { 10.4.0.1 }`);
    const pid = s.pid;
    assert.ok(pid);
    // A large listing keeps the process busy while it is killed.
    await s.send(`add element ${T} s { ${elements(5000, 0x0a0500)} }`);
    const inFlight = s.send(`list set ${T} s`);
    process.kill(pid, 'SIGKILL');
    const out = await inFlight;
    assert.match(out, /10\.4\.0\.1/);
    await s.send(`add element ${T} s { 10.4.0.2 }`);
    assert.equal(s.starts, 2);
    assert.notEqual(s.pid, pid);
    s.close();
    await session.send(`flush set ${T} s`);
  });

  it('past its input budget a session hands over to a fresh nft between commands', async (t) => {
    if (!need(t)) return;
    const s = new NftSession({ commandPrefix: prefix(), recycleBytes: 2_000 });
    for (let i = 1; i <= 40; i++) await s.send(`add element ${T} s { 10.6.0.${i} }`);
    assert.ok(s.starts >= 2, `started ${s.starts} processes`);
    assert.equal((await listed(session)).length, 40);
    s.close();
    await session.send(`flush set ${T} s`);
  });

  it('after a number of lines a session hands over to a successor started ahead, keeping the order of changes', async (t) => {
    if (!need(t)) return;
    const s = new NftSession({ commandPrefix: prefix(), recycleLines: 30 });
    const pids = new Set<number>();
    for (let i = 1; i <= 40; i++) {
      // Added and deleted again and again: a change committed out of order would leave the wrong set.
      await s.send(`add element ${T} s { 10.8.0.${i} }`);
      if (i % 2 === 0) await s.send(`delete element ${T} s { 10.8.0.${i} }`);
      pids.add(s.pid!);
    }
    assert.ok(pids.size >= 5, `${pids.size} processes answered`);
    assert.ok(s.starts <= pids.size + 1, 'no process was started that did not take over (but the last spare)');
    assert.deepEqual(
      (await listed(session)).sort(),
      Array.from({ length: 20 }, (_, i) => `10.8.0.${2 * i + 1}`).sort(),
    );
    s.close();
    await session.send(`flush set ${T} s`);
  });

  it('a listing of 10,000 counters on the read session does not hold up a change', async (t) => {
    if (!need(t)) return;
    await session.send(`add element ${T} s { ${elements(10_000, 0x0b0000)} }`);
    const runner = new NftRunner({ commandPrefix: prefix() });
    await runner.script(`add element ${T} s { 10.7.0.1 }`); // both sessions started and warm
    await runner.json(['list', 'table', ...T.split(' ')]);
    const order: string[] = [];
    const read = runner.json(['list', 'set', ...T.split(' '), 's']).then(() => order.push('read'));
    const change = runner.batch(`add element ${T} s { 10.7.0.2 }\n`).then(() => order.push('change'));
    await Promise.all([read, change]);
    assert.deepEqual(order, ['change', 'read']);
    runner.close();
    await session.send(`flush set ${T} s`);
  });
});
