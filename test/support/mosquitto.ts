// A real Mosquitto 2 broker for tests: its own temp dir and generated config, 127.0.0.1 on a
// free port, persistence off unless asked; optionally a TLS listener (certificates from
// makeTestPki, made with openssl) and a password file (made with mosquitto_passwd).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import mqtt, { type IClientOptions } from 'mqtt';
import { tempDir } from './temp-dir.js';

export interface MosquittoOptions {
  /** Keep retained messages across restarts (in the broker's temp dir). Default false. */
  persistence?: boolean;
  /** Serve TLS instead of plain TCP; the client must present a certificate signed by `ca`. */
  tls?: { ca: string; cert: string; key: string };
  /** A mosquitto_passwd file; anonymous clients are refused when given. */
  passwordFile?: string;
  /** A mosquitto ACL file (`topic readwrite #`, `topic deny x/#` ...). */
  aclFile?: string;
  /** set_tcp_nodelay true (Mosquitto's default is false: Nagle's algorithm on). */
  tcpNoDelay?: boolean;
}

export interface Mosquitto {
  readonly port: number;
  /** mqtt://127.0.0.1:PORT, or mqtts://localhost:PORT with TLS. */
  readonly url: string;
  /** Everything the broker logged so far. */
  readonly log: () => string;
  /** Stops the broker (SIGTERM; SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** Kills it (SIGKILL): nothing is saved, open connections die at once. */
  kill(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open but nothing is read or acknowledged. */
  pause(): void;
  /** Starts it again on the same port with the same config. */
  start(): Promise<void>;
  /** Stops it and removes its temp dir. */
  dispose(): Promise<void>;
}

/** Missing broker tools, named, or undefined when all are present. */
export function missingBrokerTools(): string | undefined {
  const missing = ['mosquitto', 'mosquitto_passwd', 'openssl'].filter(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`]).status !== 0,
  );
  return missing.length > 0 ? `missing ${missing.join(', ')} (Debian packages mosquitto, openssl)` : undefined;
}

function mosquittoBinary(): string {
  return spawnSync('sh', ['-c', 'command -v mosquitto']).status === 0 ? 'mosquitto' : '/usr/sbin/mosquitto';
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = tempDir('msta-mosquitto-');
  const port = await freePort();
  const lines = [
    // Run as root, mosquitto drops to the `mosquitto` user and could not read this temp dir.
    ...(process.getuid?.() === 0 ? ['user root'] : []),
    `listener ${port} 127.0.0.1`,
    `persistence ${options.persistence === true ? 'true' : 'false'}`,
    // Saved after every change (not only at exit), so a killed broker keeps its sessions.
    ...(options.persistence === true ? [`persistence_location ${dir}/`, 'autosave_on_changes true', 'autosave_interval 1'] : []),
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
    `set_tcp_nodelay ${options.tcpNoDelay === true ? 'true' : 'false'}`,
  ];
  if (options.tls) {
    lines.push(`cafile ${options.tls.ca}`, `certfile ${options.tls.cert}`, `keyfile ${options.tls.key}`, 'require_certificate true');
  }
  lines.push(options.passwordFile ? `password_file ${options.passwordFile}` : '', `allow_anonymous ${options.passwordFile ? 'false' : 'true'}`);
  if (options.aclFile) lines.push(`acl_file ${options.aclFile}`);
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(config, `${lines.join('\n')}\n`);

  let output = '';
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    const proc = spawn(mosquittoBinary(), ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    let exited = false;
    proc.once('exit', () => (exited = true));
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(port))) {
      if (exited) throw new Error(`mosquitto exited at start:\n${output}`);
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port} within 10 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async function end(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGCONT');
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  const stop = (): Promise<void> => end('SIGTERM');

  await start();
  return {
    port,
    url: options.tls ? `mqtts://localhost:${port}` : `mqtt://127.0.0.1:${port}`,
    log: () => output,
    stop,
    kill: () => end('SIGKILL'),
    pause: () => child?.kill('SIGSTOP'),
    start,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestPki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${r.stderr}`);
}

/** A throw-away CA, a server certificate for localhost / 127.0.0.1 and a client certificate. */
export function makeTestPki(dir: string): TestPki {
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    ['req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=msta-test-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  const leaf = (name: string, cn: string, ext: string): void => {
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    openssl(['req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
    openssl(
      ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`,
        '-days', '2', '-extfile', `${name}.ext`],
      dir,
    );
  };
  leaf('server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth');
  leaf('client', 'msta-test-client', 'extendedKeyUsage=clientAuth');
  return {
    ca: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
  };
}

/** A mosquitto password file holding one user. */
export function makePasswordFile(path: string, username: string, password: string): void {
  const r = spawnSync('mosquitto_passwd', ['-c', '-b', path, username, password], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mosquitto_passwd failed:\n${r.stderr}`);
}

export interface Received {
  topic: string;
  payload: string;
  /** The payload as received (binary ones: JPEG snapshots). */
  bytes: Buffer;
  retain: boolean;
  qos: number;
}

export interface Subscriber {
  readonly messages: Received[];
  /** Resolves with the first message (from the start) that matches; rejects after timeoutMs. */
  waitFor(match: (m: Received) => boolean, timeoutMs?: number, what?: string): Promise<Received>;
  /** Messages on one topic, in arrival order. */
  on(topic: string): Received[];
  close(): Promise<void>;
}

/** A real MQTT client (mqtt.js) subscribed to `filters`, recording every message it gets. */
export async function subscriber(url: string, filters: string[], options: IClientOptions = {}): Promise<Subscriber> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 100, ...options });
  const messages: Received[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload: payload.toString(), bytes: payload, retain: packet.retain, qos: packet.qos });
    for (const w of waiters) w();
  });
  await client.subscribeAsync(filters, { qos: 1 });
  return {
    messages,
    on: (topic) => messages.filter((m) => m.topic === topic),
    waitFor: (match, timeoutMs = 10_000, what = 'message') =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const found = messages.find(match);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${what} within ${timeoutMs} ms; got:\n${messages.map((m) => `${m.topic} ${m.payload}`).join('\n')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: async () => {
      await client.endAsync(true);
    },
  };
}
