import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { requirePostgres, startPostgres } from './postgres-server.js';

async function selectOne(url: string): Promise<number> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    const { rows } = await client.query<{ one: number }>('SELECT 1 AS one');
    return rows[0]!.one;
  } finally {
    await client.end();
  }
}

test('a throwaway PostgreSQL answers on its URL, survives a crash restart with its data, and is gone once stopped', async (t) => {
  if (!requirePostgres(t)) return;
  const server = await startPostgres();
  try {
    assert.equal(await selectOne(server.url), 1);
    const client = new pg.Client(server.url);
    await client.connect();
    await client.query('CREATE TABLE kept (id int)');
    await client.query('INSERT INTO kept VALUES (42)');
    client.on('error', () => undefined);
    await server.restart({ downMs: 50 });
    await assert.rejects(client.query('SELECT 1'));
    const again = new pg.Client(server.url);
    await again.connect();
    assert.deepEqual((await again.query('SELECT id FROM kept')).rows, [{ id: 42 }]);
    await again.end();
  } finally {
    await server.stop();
  }
  await assert.rejects(selectOne(server.url));
});
