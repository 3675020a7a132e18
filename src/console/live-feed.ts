// The live feed: Server-Sent Events to every open console. Each client has a bound on what may wait
// in its socket's buffer; one that falls further behind is dropped (and counted), so a slow phone
// never holds memory or delays the others. Clients beyond max_clients are refused.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ConsoleMetrics } from './console-metrics.js';

export interface LiveFeedOptions {
  maxClients: number;
  maxBufferedBytes: number;
  /** A comment line this often keeps proxies and idle timeouts from closing the stream. */
  heartbeatMs?: number;
}

export interface Phrase {
  phrase: string;
  embedding: Float32Array;
}

export interface LiveClient {
  readonly id: number;
  /** The camera whose clips the playground phrases are scored on. */
  readonly camera: string | undefined;
  readonly phrases: readonly Phrase[];
  readonly res: ServerResponse;
}

export interface LiveMessage {
  event: string;
  data: unknown;
}

export class LiveFeed {
  private readonly clients = new Set<LiveClient>();
  private nextId = 1;
  private readonly heartbeat: NodeJS.Timeout;
  private droppedSinceLog = 0;
  private lastDropLog = 0;

  constructor(
    private readonly options: LiveFeedOptions,
    private readonly metrics: ConsoleMetrics,
    private readonly log: Logger,
  ) {
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) this.write(c, ': ping\n\n');
    }, options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Starts the event stream with its first messages; undefined when full (the caller answers 503). */
  open(req: IncomingMessage, res: ServerResponse, init: { camera?: string; phrases: Phrase[] }, first: LiveMessage[]): LiveClient | undefined {
    if (this.clients.size >= this.options.maxClients) {
      this.metrics.dropped('full');
      return undefined;
    }
    const client: LiveClient = { id: this.nextId++, camera: init.camera, phrases: init.phrases, res };
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n\n');
    this.clients.add(client);
    this.metrics.clients(this.clients.size);
    const gone = (): void => {
      if (this.clients.delete(client)) this.metrics.clients(this.clients.size);
    };
    req.once('close', gone);
    res.once('close', gone);
    for (const m of first) this.send(client, m);
    return client;
  }

  send(client: LiveClient, m: LiveMessage): void {
    this.write(client, `event: ${m.event}\ndata: ${JSON.stringify(m.data)}\n\n`);
  }

  broadcast(m: LiveMessage): void {
    if (this.clients.size === 0) return;
    const text = `event: ${m.event}\ndata: ${JSON.stringify(m.data)}\n\n`;
    for (const c of this.clients) this.write(c, text);
  }

  forEach(fn: (client: LiveClient) => void): void {
    for (const c of this.clients) fn(c);
  }

  private write(client: LiveClient, text: string): void {
    if (!this.clients.has(client)) return;
    // What the kernel would not take yet waits here: past the bound, the client is too slow.
    if (client.res.writableLength > this.options.maxBufferedBytes) {
      this.drop(client);
      return;
    }
    client.res.write(text);
  }

  private drop(client: LiveClient): void {
    this.clients.delete(client);
    this.metrics.clients(this.clients.size);
    this.metrics.dropped('slow');
    client.res.destroy();
    this.droppedSinceLog++;
    // Once per burst: a crowd of slow clients is one line a minute, with the count.
    const now = Date.now();
    if (now - this.lastDropLog > 60_000) {
      this.log.warn({ dropped: this.droppedSinceLog, max_buffered_bytes: this.options.maxBufferedBytes }, 'live-feed client too slow: dropped');
      this.droppedSinceLog = 0;
      this.lastDropLog = now;
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
    this.metrics.clients(0);
  }
}
