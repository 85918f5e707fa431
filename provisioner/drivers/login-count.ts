import { access } from 'node:fs/promises';
import { runProgram } from './run.js';

/**
 * SSH logins of one account since it was created, counted from wtmp with
 * `last`. wtmp is the host's own login record: sshd appends to it for every
 * session with a terminal, it survives restarts and log rotation settings, and
 * it needs no sshd logging configuration (the auth log may be journald-only,
 * rate-limited or absent). Its limit: sshd records no wtmp entry for sessions
 * without a terminal (`ssh host command`, sftp), so the figure counts
 * interactive logins. `since` (unix seconds) keeps a recycled login name from
 * inheriting an earlier account's history. No wtmp file (sshd only appends to
 * an existing one) means no recorded logins.
 */
export async function countLogins(login: string, since: number, wtmpFile: string): Promise<number> {
  try {
    await access(wtmpFile);
  } catch {
    return 0;
  }
  const from = new Date(since * 1000).toISOString().slice(0, 19).replace('T', ' ');
  const { stdout } = await runProgram('last', ['-w', '-f', wtmpFile, '--time-format', 'iso', '-s', from, '--', login], {
    env: { TZ: 'UTC' },
  });
  return stdout.split('\n').filter((line) => line.split(/\s+/)[0] === login).length;
}
