import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A three-namespace lab for tests and the benchmark: `client` — `gw` — `inet`
 * joined by veth pairs, forwarding on in gw. Names carry a random suffix so
 * parallel runs never collide; `destroy()` removes everything it made.
 *
 *   client: vc  10.77.0.2/24 fd77::2/64, default via gw, MAC 02:00:00:00:77:02
 *   gw:     gwc 10.77.0.1/24 fd77::1/64 (guest side), gwi 10.88.0.1/24 fd88::1/64 (upstream)
 *   inet:   vi  10.88.0.2/24, 10.88.0.3/24, fd88::2/64
 */
export class NetnsLab {
  readonly client: string;
  readonly gw: string;
  readonly inet: string;
  readonly clientIp = '10.77.0.2';
  readonly clientMac = '02:00:00:00:77:02';
  readonly portalIp = '10.77.0.1';
  readonly inetIp = '10.88.0.2';
  readonly gardenIp = '10.88.0.3';
  readonly clientIp6 = 'fd77::2';
  readonly portalIp6 = 'fd77::1';
  readonly inetIp6 = 'fd88::2';
  readonly lanInterface = 'gwc';
  readonly #children: ChildProcess[] = [];

  /**
   * `prefix` starts every namespace name (default `TP_NETNS_PREFIX` or `tp`), so
   * people sharing a host can tell their namespaces apart and clean up their own.
   */
  constructor(prefix = process.env.TP_NETNS_PREFIX ?? 'tp') {
    const suffix = randomBytes(3).toString('hex');
    this.client = `${prefix}c-${suffix}`;
    this.gw = `${prefix}g-${suffix}`;
    this.inet = `${prefix}i-${suffix}`;
  }

  async create(options: { withClient?: boolean; withInet?: boolean } = {}): Promise<void> {
    const ip = (...args: string[]): Promise<unknown> => run('ip', args);
    const inNs = (ns: string, ...args: string[]): Promise<unknown> => run('ip', ['netns', 'exec', ns, ...args]);
    await ip('netns', 'add', this.gw);
    await inNs(this.gw, 'ip', 'link', 'set', 'lo', 'up');
    await inNs(this.gw, 'sysctl', '-q', 'net.ipv4.ip_forward=1');
    await inNs(this.gw, 'sysctl', '-q', 'net.ipv6.conf.all.forwarding=1');
    if (options.withClient !== false) {
      await ip('netns', 'add', this.client);
      await ip(
        'link',
        'add',
        'vc',
        'netns',
        this.client,
        'address',
        this.clientMac,
        'type',
        'veth',
        'peer',
        'gwc',
        'netns',
        this.gw,
      );
      await inNs(this.client, 'ip', 'link', 'set', 'lo', 'up');
      await inNs(this.client, 'ip', 'addr', 'add', `${this.clientIp}/24`, 'dev', 'vc');
      await inNs(this.client, 'ip', 'link', 'set', 'vc', 'up');
      await inNs(this.client, 'ip', 'route', 'add', 'default', 'via', this.portalIp);
      await inNs(this.client, 'ip', '-6', 'addr', 'add', `${this.clientIp6}/64`, 'dev', 'vc', 'nodad');
      await inNs(this.client, 'ip', '-6', 'route', 'add', 'default', 'via', this.portalIp6);
      await inNs(this.gw, 'ip', 'addr', 'add', `${this.portalIp}/24`, 'dev', 'gwc');
      await inNs(this.gw, 'ip', '-6', 'addr', 'add', `${this.portalIp6}/64`, 'dev', 'gwc', 'nodad');
      await inNs(this.gw, 'ip', 'link', 'set', 'gwc', 'up');
    }
    if (options.withInet !== false) {
      await ip('netns', 'add', this.inet);
      await ip('link', 'add', 'vi', 'netns', this.inet, 'type', 'veth', 'peer', 'gwi', 'netns', this.gw);
      await inNs(this.inet, 'ip', 'link', 'set', 'lo', 'up');
      await inNs(this.inet, 'ip', 'addr', 'add', `${this.inetIp}/24`, 'dev', 'vi');
      await inNs(this.inet, 'ip', 'addr', 'add', `${this.gardenIp}/24`, 'dev', 'vi');
      await inNs(this.inet, 'ip', '-6', 'addr', 'add', `${this.inetIp6}/64`, 'dev', 'vi', 'nodad');
      await inNs(this.inet, 'ip', 'link', 'set', 'vi', 'up');
      await inNs(this.gw, 'ip', 'addr', 'add', '10.88.0.1/24', 'dev', 'gwi');
      await inNs(this.gw, 'ip', '-6', 'addr', 'add', 'fd88::1/64', 'dev', 'gwi', 'nodad');
      await inNs(this.gw, 'ip', 'link', 'set', 'gwi', 'up');
    }
  }

  /**
   * Starts a tiny HTTP server inside a namespace (node, no DNS lookups) that
   * answers `<name> <local address>` — or `blobBytes` bytes for GET /blob, or the
   * number of bytes it received for POST /upload.
   */
  async serve(ns: string, name: string, host: string, ports: number[], blobBytes = 0): Promise<void> {
    const script = `
      const http = require('node:http');
      const blob = Buffer.alloc(${blobBytes}, 120);
      let ready = 0;
      for (const port of ${JSON.stringify(ports)}) {
        http.createServer((req, res) => {
          if (req.url === '/blob') return res.end(blob);
          if (req.url === '/upload') {
            let n = 0;
            req.on('data', (d) => (n += d.length));
            return req.on('end', () => res.end(String(n)));
          }
          res.end(${JSON.stringify(name)} + ' ' + req.socket.localAddress.replace(/^::ffff:/, ''));
        }).listen(port, ${JSON.stringify(host)}, () => { if (++ready === ${ports.length}) console.log('ready'); });
      }`;
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.#children.push(child);
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', () => resolve());
      child.once('exit', (code) => reject(new Error(`server ${name} exited with ${code}`)));
    });
  }

  /** `curl` from the client namespace: body and exit code (7 = refused/reset, 28 = timed out). */
  async curl(url: string, maxSeconds = 1, uploadFile?: string): Promise<{ code: number; body: string; ms: number }> {
    const started = performance.now();
    const upload = uploadFile ? ['--data-binary', `@${uploadFile}`] : [];
    try {
      const { stdout } = await run(
        'ip',
        ['netns', 'exec', this.client, 'curl', '-s', '-g', '--max-time', String(maxSeconds), ...upload, url],
        {
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      return { code: 0, body: stdout, ms: performance.now() - started };
    } catch (err) {
      const e = err as { code?: number; stdout?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, body: e.stdout ?? '', ms: performance.now() - started };
    }
  }

  nft(...args: string[]): Promise<{ stdout: string }> {
    return run('ip', ['netns', 'exec', this.gw, 'nft', ...args]);
  }

  async destroy(): Promise<void> {
    for (const child of this.#children) child.kill('SIGKILL');
    for (const ns of [this.client, this.gw, this.inet]) {
      await run('ip', ['netns', 'del', ns]).catch(() => undefined);
    }
  }
}
