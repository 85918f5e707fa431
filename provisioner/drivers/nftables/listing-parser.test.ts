import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ListingParser } from './listing-parser.js';

const listing = (elem: unknown[]): string =>
  JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6', json_schema_version: 1 } },
      { set: { family: 'inet', name: 'allowed_v4', table: 'turnpike', type: 'ipv4_addr', elem } },
    ],
  });

describe('reading nft set listings off the event loop', () => {
  it('gives each element its address, time left, comment and counters, whatever form nft printed it in', async () => {
    const parser = new ListingParser();
    const elements = await parser.parse(
      listing([
        {
          elem: {
            val: '10.0.0.7',
            timeout: 3600,
            expires: 3542,
            comment: 'sid=s7;mac=02:00:00:00:00:07;up=0;down=8000',
            counter: { packets: 12, bytes: 3400 },
          },
        },
        '10.0.0.8',
        { elem: { val: { prefix: { addr: '192.0.2.0', len: 24 } }, comment: '192.0.2.0/24' } },
      ]),
    );
    assert.deepEqual(elements, [
      {
        val: '10.0.0.7',
        expires: 3542,
        comment: 'sid=s7;mac=02:00:00:00:00:07;up=0;down=8000',
        packets: 12,
        bytes: 3400,
      },
      { val: '10.0.0.8', expires: 0, packets: 0, bytes: 0 },
      { val: '192.0.2.0/24', expires: 0, comment: '192.0.2.0/24', packets: 0, bytes: 0 },
    ]);
    assert.deepEqual(await parser.parse(listing([])), [], 'an empty set');
    parser.close();
  });

  it('ten thousand elements arrive whole, and a garbled listing fails alone', async () => {
    const parser = new ListingParser();
    const many = Array.from({ length: 10_000 }, (_, i) => ({
      elem: {
        val: `10.1.${i >> 8}.${i & 255}`,
        expires: 60,
        comment: `sid=s${i}`,
        counter: { packets: i, bytes: 2 * i },
      },
    }));
    const [big, bad, after] = await Promise.allSettled([
      parser.parse(listing(many)),
      parser.parse('{"nftables": [ {"set": '),
      parser.parse(listing(['10.2.0.1'])),
    ]);
    assert.equal(big.status, 'fulfilled');
    const elements = (big as PromiseFulfilledResult<Awaited<ReturnType<ListingParser['parse']>>>).value;
    assert.equal(elements.length, 10_000);
    assert.deepEqual(elements[9_999], {
      val: '10.1.39.15',
      expires: 60,
      comment: 'sid=s9999',
      packets: 9_999,
      bytes: 19_998,
    });
    assert.equal(bad.status, 'rejected');
    assert.match(String((bad as PromiseRejectedResult).reason), /cannot read the nft listing/);
    assert.equal(after.status, 'fulfilled');
    parser.close();
  });
});
