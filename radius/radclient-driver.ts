import { spawn } from 'node:child_process';

export interface RadclientResult {
  /** The reply's code name (`Access-Accept`, …), or null when no reply came. */
  reply: string | null;
  /** The reply's attributes in wire order as radclient printed them. */
  attributes: Array<[string, string]>;
  output: string;
}

/**
 * Runs FreeRADIUS's `radclient` once (no retries, 1 s timeout) with `body` as the request file.
 * radclient 3.2 adds Message-Authenticator only when the body says `Message-Authenticator = 0x00`.
 */
export async function radclient(
  target: string,
  type: 'auth' | 'acct' | 'status' | 'coa' | 'disconnect',
  secret: string,
  body: string,
): Promise<RadclientResult> {
  const child = spawn('radclient', ['-x', '-r', '1', '-t', '1', target, type, secret], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdin.end(body);
  await new Promise((resolve) => child.on('close', resolve));
  const lines = output.split('\n');
  const start = lines.findIndex((line) => line.startsWith('Received '));
  if (start < 0) return { reply: null, attributes: [], output };
  const reply = /^Received (\S+)/.exec(lines[start]!)![1]!;
  const attributes: Array<[string, string]> = [];
  for (const line of lines.slice(start + 1)) {
    const match = /^\t(\S+) = (.*)$/.exec(line);
    if (!match) break;
    attributes.push([match[1]!, match[2]!.replace(/^"|"$/g, '')]);
  }
  return { reply, attributes, output };
}

export function attributeOf(result: RadclientResult, name: string): string | undefined {
  return result.attributes.find(([key]) => key === name)?.[1];
}
