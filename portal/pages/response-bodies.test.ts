import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request as httpRequest, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { BODY_BYTES, joinIntoBody } from './response-bodies.js';

/** A response as joinIntoBody sees it: written out or not. */
function response(writableFinished: boolean): ServerResponse {
  return { writableFinished } as ServerResponse;
}

const page = (token: string) => [
  Buffer.from('<html><input value="'),
  Buffer.from(token),
  Buffer.from('">' + 'x'.repeat(9_000) + '</html>'),
];
const text = (parts: Buffer[]) => Buffer.concat(parts).toString();

describe('response bodies written into reused buffers', () => {
  it('a body still being written is never overwritten by later pages', () => {
    const pending = Array.from({ length: 10 }, (_, i) => {
      const parts = page(`token-${i}`);
      return { body: joinIntoBody(response(false), parts), expected: text(parts) };
    });
    for (const { body, expected } of pending) assert.equal(body.toString(), expected);
  });

  it('the memory of a page that has been written out carries the next page, with its own tokens', () => {
    const first = response(false);
    const markup = page('first-guest');
    const body = joinIntoBody(first, markup);
    (first as { writableFinished: boolean }).writableFinished = true;
    // Same markup buffers, a different guest's token of the same length: only the token changes.
    const next = joinIntoBody(response(false), [markup[0]!, Buffer.from('other-guest'), markup[2]!]);
    assert.equal(next.buffer, body.buffer);
    assert.equal(next.toString(), text([markup[0]!, Buffer.from('other-guest'), markup[2]!]));
  });

  it('a token of another length moves the markup after it, and the page still reads right', () => {
    const markup = page('short');
    const first = response(false);
    joinIntoBody(first, markup);
    (first as { writableFinished: boolean }).writableFinished = true;
    const longer = [markup[0]!, Buffer.from('a-much-longer-token-than-before'), markup[2]!];
    const second = response(false);
    assert.equal(joinIntoBody(second, longer).toString(), text(longer));
    (second as { writableFinished: boolean }).writableFinished = true;
    assert.equal(joinIntoBody(response(false), markup).toString(), text(markup));
  });

  it('a body larger than a reusable buffer gets a buffer of its own', () => {
    const big = Buffer.alloc(BODY_BYTES + 1, 97);
    const body = joinIntoBody(response(true), [big, Buffer.from('!')]);
    assert.equal(body.length, BODY_BYTES + 2);
    assert.equal(body.byteOffset, 0);
    assert.equal(body.buffer.byteLength, BODY_BYTES + 2);
  });

  it('many guests at once over HTTP each receive the page with their own token', async () => {
    const markup = page('');
    const server = createServer((req, res) => {
      const token = Buffer.from(new URL(req.url ?? '/', 'http://x').searchParams.get('t') ?? '');
      const body = joinIntoBody(res, [markup[0]!, token, markup[2]!]);
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const fetchPage = (token: string) =>
        new Promise<string>((resolve, reject) => {
          httpRequest({ host: '127.0.0.1', port, path: `/?t=${token}` }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve(Buffer.concat(chunks).toString()));
          })
            .on('error', reject)
            .end();
        });
      const tokens = Array.from({ length: 200 }, (_, i) => `guest-${i}-${'t'.repeat(i % 7)}`);
      const pages = await Promise.all(tokens.map(fetchPage));
      pages.forEach((received, i) => assert.equal(received, text([markup[0]!, Buffer.from(tokens[i]!), markup[2]!])));
    } finally {
      server.close();
    }
  });
});
