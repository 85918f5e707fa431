import { createConnection, createServer, type Server } from 'node:net';
import { chmod, unlink } from 'node:fs/promises';
import { TurnpikeError } from '../../shared/errors.js';

/**
 * The running appliance is the store's only writer. A CLI command that
 * changes state while it runs is sent here, over a unix socket readable only
 * by the appliance's user, and executed inside the running process.
 */
export interface AdminRequest {
  argv: string[];
}

export interface AdminResponse {
  ok: boolean;
  lines: string[];
  error?: string;
}

export type AdminExecutor = (argv: string[]) => Promise<string[]>;

const MAX_REQUEST_BYTES = 64 * 1024;

export async function listenAdminSocket(path: string, execute: AdminExecutor): Promise<Server> {
  await unlink(path).catch(() => undefined);
  const server = createServer((socket) => {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_REQUEST_BYTES) return socket.destroy();
      const newline = buffer.indexOf('\n');
      if (newline === -1) return;
      const line = buffer.slice(0, newline);
      void respond(line).then((response) => socket.end(`${JSON.stringify(response)}\n`));
    });
    socket.on('error', () => undefined);
  });
  const respond = async (line: string): Promise<AdminResponse> => {
    let request: AdminRequest;
    try {
      request = JSON.parse(line) as AdminRequest;
      if (!Array.isArray(request.argv) || !request.argv.every((arg) => typeof arg === 'string')) throw new Error();
    } catch {
      return { ok: false, lines: [], error: 'malformed admin request' };
    }
    try {
      return { ok: true, lines: await execute(request.argv) };
    } catch (err) {
      return { ok: false, lines: [], error: err instanceof Error ? err.message : String(err) };
    }
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  await chmod(path, 0o600);
  return server;
}

export function sendAdminCommand(path: string, argv: string[]): Promise<AdminResponse> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify({ argv } satisfies AdminRequest)}\n`));
    socket.on('data', (chunk: string) => (buffer += chunk));
    socket.on('end', () => {
      try {
        resolve(JSON.parse(buffer) as AdminResponse);
      } catch {
        reject(new TurnpikeError('TP_ERR_UNAVAILABLE', 'the running appliance gave no answer on its admin socket'));
      }
    });
    socket.on('error', (err) =>
      reject(
        new TurnpikeError(
          'TP_ERR_STORE_LOCKED',
          `the appliance is running but its admin socket ${path} cannot be reached (${err.message}); run this as the appliance's user or stop it first`,
        ),
      ),
    );
  });
}
