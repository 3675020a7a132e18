// The broker connection: mqtt.js set up for a daemon (reconnect forever, last will, TLS files,
// nothing queued offline), its failures turned into one secret-free message logged once per
// distinct failure, and an orderly close that never hangs on a frozen broker.
import { readFile } from 'node:fs/promises';
import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import { MstaError } from '../errors.js';
import { redactSecrets, redactUrl } from '../redact.js';
import { connectionError } from './connection-error.js';

export interface ConnectionLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface ConnectionOptions {
  url: string;
  protocolVersion: 4 | 5;
  clientId: string;
  username?: string;
  password?: string;
  tls?: { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean };
  keepaliveSeconds?: number;
  reconnectPeriodMs?: number;
  connectTimeoutMs?: number;
  /** Retained `offline` is the last will here; `online` is published on every connect. */
  statusTopic: string;
  log: ConnectionLogger;
}

export interface ConnectionHandlers {
  onConnect(): void;
  onClose(): void;
  onMessage(topic: string, payload: Buffer, retained: boolean): void;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, ms));
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // Not valid percent-encoding (`p%zz`): taken as written.
    return text;
  }
}

/**
 * The URL without its credentials, and the credentials decoded. mqtt.js would parse them with
 * url.parse, which throws an URIError on invalid percent-encoding; they are passed as options.
 */
export function splitCredentials(url: string): { url: string; username?: string; password?: string } {
  if (!URL.canParse(url)) return { url };
  const u = new URL(url);
  if (u.username === '' && u.password === '') return { url };
  const username = decodeSafely(u.username);
  const password = decodeSafely(u.password);
  u.username = '';
  u.password = '';
  return { url: u.toString(), ...(username !== '' ? { username } : {}), ...(password !== '' ? { password } : {}) };
}

export class Connection {
  /** The secrets that must never reach a log line. */
  readonly secrets: (string | undefined)[];
  /** The broker URL without credentials, for messages. */
  readonly where: string;
  private readonly json: IClientPublishOptions['properties'];
  private readonly credentials: { url: string; username?: string; password?: string };
  private client: MqttClient | undefined;
  private wasConnected = false;
  private closing = false;
  private lastError: MstaError | undefined;
  private lastLoggedError: string | undefined;
  /** The broker's MQTT 5 Receive Maximum (its limit on our unacknowledged QoS 1 messages). */
  receiveMaximum: number | undefined;

  constructor(private readonly options: ConnectionOptions) {
    this.where = redactUrl(options.url);
    this.credentials = splitCredentials(options.url);
    // The raw (still encoded) URL password too: an error may echo the URL as written.
    const raw = URL.canParse(options.url) ? new URL(options.url).password : '';
    this.secrets = [options.password, this.credentials.password, raw !== '' ? raw : undefined];
    this.json = options.protocolVersion === 4 ? undefined : { contentType: 'application/json' };
  }

  get connected(): boolean {
    return this.client?.connected === true && !this.closing;
  }

  /** True when the socket's buffer is full (QoS 0 traffic should wait). */
  get backedUp(): boolean {
    return this.client?.stream.writableNeedDrain === true;
  }

  /** Starts connecting (and reconnecting, forever); does not wait for the broker. */
  async open(handlers: ConnectionHandlers): Promise<void> {
    const o = this.options;
    // The configured credentials win over those in the URL.
    const username = o.username ?? this.credentials.username;
    const password = o.password ?? this.credentials.password;
    if (o.tls?.rejectUnauthorized === false) this.log('warn', 'TLS certificate verification is OFF (mqtt.tls.reject_unauthorized: false)');
    const clientOptions: IClientOptions = {
      protocolVersion: o.protocolVersion,
      clientId: o.clientId,
      clean: true,
      keepalive: o.keepaliveSeconds ?? 30,
      reconnectPeriod: o.reconnectPeriodMs ?? 2000,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      // A refused CONNACK (bad password, ACL) is often fixed on the broker side: keep trying.
      reconnectOnConnackError: true,
      // Memory stays bounded: QoS 0 is never queued, QoS 1 is published only while connected.
      queueQoSZero: false,
      resubscribe: false,
      will: { topic: o.statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(await this.tlsOptions()),
    };
    const client = mqtt.connect(this.credentials.url, clientOptions);
    this.client = client;
    client.on('connect', (connack) => {
      // Nagle's algorithm would hold a packet sent right after one the broker does not answer (an
      // event after QoS 0 scores) until the broker's TCP ACK, which a delayed ACK keeps up to 40 ms.
      (client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
      this.receiveMaximum = connack.properties?.receiveMaximum;
      this.wasConnected = true;
      this.lastError = undefined;
      this.lastLoggedError = undefined;
      this.log('info', `connected to ${this.where} (MQTT ${o.protocolVersion === 4 ? '3.1.1' : '5'})`);
      handlers.onConnect();
    });
    client.on('close', () => {
      if (this.wasConnected && !this.closing) this.log('warn', `connection to ${this.where} lost; events go to the spool until it is back`);
      this.wasConnected = false;
      handlers.onClose();
    });
    client.on('error', (e) => this.onError(e));
    client.on('message', (topic, payload, packet) => handlers.onMessage(topic, payload, packet.retain));
  }

  /** Publishes when connected (JSON payloads flagged as such on MQTT 5); `done` gets the PUBACK or the failure. */
  publish(topic: string, payload: string | Buffer, qos: 0 | 1, retain: boolean, done: (err?: Error) => void): void {
    const client = this.client;
    if (!client) return done(new MstaError('MQTT_FAILED', 'not connected', { where: this.where }));
    const json = typeof payload === 'string' && payload.startsWith('{') && this.json ? { properties: this.json } : {};
    client.publish(topic, payload, { qos, retain, ...json }, (err) => done(err));
  }

  /** QoS 1 subscriptions, No Local on MQTT 5 (no echo of our own publishes). */
  subscribe(filters: readonly string[], onFailed: (err: Error) => void): void {
    const nl = this.options.protocolVersion !== 4;
    this.client?.subscribe(Object.fromEntries(filters.map((f) => [f, { qos: 1 as const, nl }])), (err) => {
      if (err) onFailed(err);
    });
  }

  whenConnected(timeoutMs: number): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new MstaError('MQTT_FAILED', 'the sink was not started', { where: 'sink' }));
    if (client.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onConnect = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        client.removeListener('connect', onConnect);
        reject(this.lastError ?? new MstaError('MQTT_FAILED', `MQTT broker: not connected after ${timeoutMs} ms`, { where: this.where }));
      }, timeoutMs);
      client.once('connect', onConnect);
    });
  }

  /**
   * Runs `beforeOffline` (while still connected, within the deadline), publishes `offline`
   * retained and disconnects; forces the socket closed at the deadline. True if `offline` was acknowledged.
   */
  async close(deadline: number, beforeOffline: () => Promise<void>): Promise<boolean> {
    const left = (): number => deadline - Date.now();
    const client = this.client;
    let acknowledged = false;
    if (client?.connected) {
      await withTimeout(beforeOffline(), left());
      this.closing = true;
      const offline = client.publishAsync(this.options.statusTopic, 'offline', { qos: 1, retain: true });
      acknowledged = (await withTimeout(offline.then(() => 'ok' as const, () => 'failed' as const), left())) === 'ok';
    }
    this.closing = true;
    if (client) {
      // A broker that acknowledged `offline` gets a clean DISCONNECT; an unresponsive one, or none,
      // just a closed socket (mqtt.js ignores a second end(), so the socket is destroyed directly).
      const ending = client.endAsync(!acknowledged);
      if ((await withTimeout(ending, left())) === 'timeout') {
        client.stream.destroy();
        await withTimeout(ending, 1000);
      }
    }
    return acknowledged;
  }

  private async tlsOptions(): Promise<Partial<IClientOptions>> {
    const tls = this.options.tls;
    if (!tls) return {};
    const read = async (key: 'ca' | 'cert' | 'key'): Promise<Partial<IClientOptions>> => {
      const path = tls[key];
      if (path === undefined) return {};
      try {
        return { [key]: await readFile(path) };
      } catch (e) {
        throw new MstaError('MQTT_FAILED', `cannot read the TLS ${key} file ${path}: ${(e as Error).message}`, { where: `mqtt.tls.${key}` });
      }
    };
    return { ...(await read('ca')), ...(await read('cert')), ...(await read('key')), rejectUnauthorized: tls.rejectUnauthorized ?? true };
  }

  private onError(e: Error): void {
    const err = connectionError(e, this.where, this.secrets);
    this.lastError = err;
    // mqtt.js retries every reconnect period: log each distinct failure once, not every retry.
    if (err.message !== this.lastLoggedError) {
      this.lastLoggedError = err.message;
      this.log('error', `${err.message}; retrying, events go to the spool meanwhile`);
    }
  }

  private log(level: keyof ConnectionLogger, message: string): void {
    this.options.log[level](redactSecrets(message, this.secrets));
  }
}
