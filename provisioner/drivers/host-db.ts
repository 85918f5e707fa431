import { readFile } from 'node:fs/promises';

/**
 * Read-only views of the local account files. useradd & co. only ever manage
 * these local files, so they — not NSS, which may also list LDAP or SSSD users —
 * are what the provisioner can own.
 */

export interface PasswdEntry {
  login: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface ShadowEntry {
  login: string;
  hash: string;
  /** Days since the epoch on which the account expires; null = never. */
  expireDay: number | null;
}

export interface HostDbPaths {
  passwd: string;
  group: string;
  shadow: string;
}

export const HOST_DB_PATHS: HostDbPaths = { passwd: '/etc/passwd', group: '/etc/group', shadow: '/etc/shadow' };

function lines(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.length > 0 && !line.startsWith('#'))
    .map((line) => line.split(':'));
}

export function parsePasswd(text: string): PasswdEntry[] {
  return lines(text)
    .filter((f) => f.length >= 7)
    .map((f) => ({
      login: f[0] ?? '',
      uid: Number(f[2]),
      gid: Number(f[3]),
      gecos: f[4] ?? '',
      home: f[5] ?? '',
      shell: f[6] ?? '',
    }));
}

export function parseGroup(text: string): GroupEntry[] {
  return lines(text)
    .filter((f) => f.length >= 4)
    .map((f) => ({
      name: f[0] ?? '',
      gid: Number(f[2]),
      members: (f[3] ?? '').split(',').filter((m) => m.length > 0),
    }));
}

export function parseShadow(text: string): ShadowEntry[] {
  return lines(text)
    .filter((f) => f.length >= 8)
    .map((f) => ({
      login: f[0] ?? '',
      hash: f[1] ?? '',
      expireDay: f[7] === undefined || f[7] === '' ? null : Number(f[7]),
    }));
}

export class HostDb {
  constructor(private readonly paths: HostDbPaths = HOST_DB_PATHS) {}

  async users(): Promise<PasswdEntry[]> {
    return parsePasswd(await readFile(this.paths.passwd, 'utf8'));
  }

  async user(login: string): Promise<PasswdEntry | undefined> {
    return (await this.users()).find((u) => u.login === login);
  }

  async groups(): Promise<GroupEntry[]> {
    return parseGroup(await readFile(this.paths.group, 'utf8'));
  }

  async group(name: string): Promise<GroupEntry | undefined> {
    return (await this.groups()).find((g) => g.name === name);
  }

  async shadow(login: string): Promise<ShadowEntry | undefined> {
    return (await this.shadows()).find((s) => s.login === login);
  }

  async shadows(): Promise<ShadowEntry[]> {
    return parseShadow(await readFile(this.paths.shadow, 'utf8'));
  }
}
