import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { TurnpikeError } from '../../shared/errors.js';
import { inSpan } from '../../shared/telemetry/tracing.js';

export interface RunOptions {
  /** Written to the program's stdin, then stdin is closed (keeps secrets off argv). */
  input?: string;
  /** Exit codes that count as success; default [0]. */
  okExitCodes?: readonly number[];
  timeoutMs?: number;
  /** Extra environment on top of the fixed minimal one (e.g. TZ). */
  env?: Readonly<Record<string, string>>;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Fixed, minimal environment: a program's behaviour must not depend on the caller's. */
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };

/**
 * Runs `file` with an argument vector — never through a shell, so no argument
 * is ever interpreted. A missing program is TP_ERR_UNAVAILABLE; an exit code
 * outside `okExitCodes` is TP_ERR_INTERNAL carrying the program's stderr.
 */
export function runProgram(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  // The span names the program, never its arguments (logins, key material).
  const program = basename(file);
  return inSpan(`exec ${program}`, { 'process.executable.name': program }, () => spawnProgram(file, args, options));
}

function spawnProgram(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const ok = options.okExitCodes ?? [0];
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: { ...ENV, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 30_000,
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.stdin.on('error', () => {
      // The program may exit before reading its input; its exit code tells the story.
    });
    child.on('error', (cause: NodeJS.ErrnoException) => {
      if (cause.code === 'ENOENT') {
        reject(new TurnpikeError('TP_ERR_UNAVAILABLE', `${file} is not installed`, { file }));
      } else {
        reject(new TurnpikeError('TP_ERR_INTERNAL', `${file} could not run: ${cause.message}`, { file }));
      }
    });
    child.on('close', (code, signal) => {
      const result = {
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (signal === null && ok.includes(result.code)) {
        resolve(result);
        return;
      }
      const how = signal === null ? `exit code ${result.code}` : `signal ${signal}`;
      reject(
        new TurnpikeError('TP_ERR_INTERNAL', `${file} failed with ${how}: ${result.stderr.trim().slice(0, 500)}`, {
          file,
          args: [...args],
          code: result.code,
        }),
      );
    });
    child.stdin.end(options.input ?? '');
  });
}
