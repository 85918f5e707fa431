import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BOOT_SCRIPT = fileURLToPath(new URL('./boot-system-root.sh', import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(
  file: string,
  args: string[],
  options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 300_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/**
 * A systemd booted as PID 1 in a root of its own (boot-system-root.sh: an
 * overlay of / over a tmpfs, private /tmp, /var/tmp, /run, /dev, its own
 * network). Commands run inside through nsenter; `close` ends the namespace
 * with SIGKILL and checks the host's /tmp marker is still there.
 */
export class SystemRoot {
  readonly #boot: ChildProcess;
  readonly #scratch: string;
  readonly #marker: string;
  readonly #pid: number;
  #bootLog = '';

  private constructor(boot: ChildProcess, scratch: string, marker: string, pid: number) {
    this.#boot = boot;
    this.#scratch = scratch;
    this.#marker = marker;
    this.#pid = pid;
  }

  /** Boots it; FILEs are copied to /opt/turnpike-test inside. Scratch space goes under `base`. */
  static async boot(base: string, files: string[]): Promise<SystemRoot> {
    const scratch = await mkdtemp(join(base, 'root-'));
    // A file in the HOST's /tmp: the root must not see it, and it must outlive the boot.
    const marker = join('/tmp', `h16-marker-${process.pid}-${Date.now()}`);
    await writeFile(marker, 'the booted systemd must leave the host /tmp alone\n');
    const boot = spawn('bash', [BOOT_SCRIPT, scratch, marker, ...files], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    boot.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    boot.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const deadline = Date.now() + 30_000;
    let pid = 0;
    while (pid === 0) {
      if (boot.exitCode !== null) throw new Error(`boot-system-root.sh exited ${boot.exitCode}: ${log}`);
      if (Date.now() > deadline) throw new Error(`systemd did not appear within 30 s: ${log}`);
      pid = await systemdUnder(boot.pid!);
      if (pid === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const root = new SystemRoot(boot, scratch, marker, pid);
    root.#bootLog = log;
    try {
      await root.#booted();
    } catch (err) {
      await root.close().catch(() => undefined);
      throw err;
    }
    return root;
  }

  /** Until the manager answers (`offline` before its bus is up), then until the boot job is done. */
  async #booted(): Promise<void> {
    const deadline = Date.now() + 300_000;
    for (;;) {
      const state = await this.exec(['systemctl', 'is-system-running', '--wait'], { timeoutMs: 300_000 });
      if (/^(running|degraded)/.test(state.stdout)) return;
      if (Date.now() > deadline) {
        const failed = await this.exec(['systemctl', '--failed', '--no-pager']);
        throw new Error(
          `systemd did not finish booting: ${state.stdout}${state.stderr}${failed.stdout}${this.#bootLog}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /** The host's PID of the booted systemd. */
  get pid(): number {
    return this.#pid;
  }

  get marker(): string {
    return this.#marker;
  }

  exec(argv: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    return run('nsenter', ['--target', String(this.#pid), '--all', '--', ...argv], options);
  }

  /** Runs a command inside and asserts it succeeded; returns its stdout. */
  async ok(argv: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    const result = await this.exec(argv, options);
    assert.equal(result.code, 0, `${argv.join(' ')} failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
    return result.stdout;
  }

  async readFile(path: string): Promise<string> {
    return this.ok(['cat', path]);
  }

  async writeFile(path: string, content: string): Promise<void> {
    await this.ok(['sh', '-c', 'cat >"$1"', 'sh', path], { input: content });
  }

  /** Ends every process of the root at once, then removes its cgroup and scratch space. */
  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.#boot.exitCode !== null || this.#boot.signalCode !== null) resolve();
      else this.#boot.once('exit', () => resolve());
    });
    try {
      process.kill(this.#pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await exited;
    const cgroup = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup']
      .map((dir) => join(dir, `turnpike-test-${this.#scratch.split('/').at(-1)}`))
      .find((dir) => existsSync(dir));
    if (cgroup) await removeCgroup(cgroup);
    await rm(this.#scratch, { recursive: true, force: true });
    const survived = existsSync(this.#marker);
    await rm(this.#marker, { force: true });
    assert.ok(survived, `the host's ${this.#marker} is gone: the booted systemd reached the host's /tmp`);
  }
}

/** The script execs unshare, whose forked child (PID 1 inside) execs systemd. */
async function systemdUnder(unsharePid: number): Promise<number> {
  for (const child of await childrenOf(unsharePid)) {
    const comm = await readFile(`/proc/${child}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === 'systemd') return child;
  }
  return 0;
}

async function childrenOf(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const children: number[] = [];
  for (const task of tasks) {
    const text = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
    children.push(...text.split(/\s+/).filter(Boolean).map(Number));
  }
  return children;
}

async function removeCgroup(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) await removeCgroup(join(dir, entry.name));
  }
  for (let attempt = 0; attempt < 50; attempt += 1) {
    try {
      await rmdir(dir);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
