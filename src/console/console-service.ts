// The console's live side: the feed's clients, what each is sent per clip (top-k scores, and its
// playground phrases scored on its camera's clips), the active actions from the events, inference
// latency, and the state sent every second while anyone watches (no work when nobody does).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { streamKey, type ActionEvent, type ClipEmbedding, type LabelScore } from '../types.js';
import type { ConsoleMetrics } from './console-metrics.js';
import type { CameraCard, CameraStats, ClipMessage, ConsoleState, PlaygroundConfig, SystemStats } from './console-types.js';
import { LatencyWindow } from './latency-window.js';
import { LiveFeed, type LiveClient, type LiveMessage, type Phrase } from './live-feed.js';
import { PhraseBook, type PhraseEmbedder } from './phrase-book.js';

export interface ConsoleOptions {
  max_clients: number;
  max_buffered_bytes: number;
  max_phrase_chars: number;
  max_phrases: number;
  phrases_per_minute: number;
}

export interface ConsoleServiceDeps {
  options: ConsoleOptions;
  metrics: ConsoleMetrics;
  log: Logger;
  cameras(): Promise<CameraStats[]>;
  system(): SystemStats;
  /** A camera's (its labels and thresholds; the global ones without a camera); undefined until the model and labels are loaded. */
  playground(camera?: string): PlaygroundConfig | undefined;
  /** The camera's labels' top-k for one of its clips' embedding. */
  topK(camera: string, region: string | null, embedding: Float32Array): LabelScore[];
  /** A phrase's score on a camera's clip, as if it were added to that camera's labels. */
  scorePhrase(camera: string, region: string | null, embedding: Float32Array, phrase: Float32Array): number;
  /** The text model, once loaded. */
  embedPhrase(camera?: string): PhraseEmbedder | undefined;
  /** An event as the live feed sends it: the MQTT event payload (built by the sink, one format for both). */
  eventMessage(event: ActionEvent): unknown;
  stateEveryMs?: number;
}

const RECENT_EVENTS = 50;

export class ConsoleService {
  readonly feed: LiveFeed;
  readonly phrases: PhraseBook;
  private readonly latency = new LatencyWindow();
  /** The active action of each stream (camera, or camera/region): a camera shows its newest. */
  private readonly actions = new Map<string, NonNullable<CameraCard['action']> & { camera: string }>();
  private readonly recent: ActionEvent[] = [];
  private readonly providers = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;
  private ticking = false;
  private failing = false;
  /** Clients that were sent the playground's settings. */
  private readonly configured = new WeakSet<LiveClient>();

  constructor(private readonly deps: ConsoleServiceDeps) {
    const o = deps.options;
    this.feed = new LiveFeed({ maxClients: o.max_clients, maxBufferedBytes: o.max_buffered_bytes }, deps.metrics, deps.log);
    this.phrases = new PhraseBook((camera) => deps.embedPhrase(camera), { maxChars: o.max_phrase_chars, perMinute: o.phrases_per_minute }, deps.metrics);
    this.timer = setInterval(() => void this.tick(), deps.stateEveryMs ?? 1000);
    this.timer.unref();
  }

  /** One clip's embedding from a camera's recognition (every clip, before its events). */
  clip(embedding: ClipEmbedding): void {
    this.latency.add(embedding.inferenceSeconds);
    const camera = embedding.clip.camera;
    const region = embedding.clip.region;
    this.providers.set(camera, embedding.provider);
    if (this.feed.size === 0) return;
    const base: ClipMessage = { camera, region, at: embedding.clip.lastFrameAt, top: this.deps.topK(camera, region, embedding.embedding).map((s) => ({ label: s.label, score: round(s.score) })) };
    this.feed.forEach((client) => {
      const phrases = client.camera === camera && client.phrases.length > 0
        ? client.phrases.map((p) => ({ phrase: p.phrase, score: round(this.deps.scorePhrase(camera, region, embedding.embedding, p.embedding)) }))
        : undefined;
      this.feed.send(client, { event: 'clip', data: phrases ? { ...base, phrases } : base });
    });
  }

  /** An action event as published: the card's current action, and the live events list. */
  event(event: ActionEvent): void {
    const stream = streamKey(event.camera, event.region);
    if (event.type === 'end') this.actions.delete(stream);
    else this.actions.set(stream, { camera: event.camera, region: event.region, label: event.label, score: round(event.score), since: new Date(event.startedAt).toISOString() });
    this.recent.push(event);
    if (this.recent.length > RECENT_EVENTS) this.recent.shift();
    this.feed.broadcast({ event: 'action', data: this.deps.eventMessage(event) });
  }

  /** A camera's newest active action over its streams. */
  private actionOf(camera: string): CameraCard['action'] {
    let newest: CameraCard['action'] = null;
    for (const { camera: c, ...a } of this.actions.values()) if (c === camera && (newest === null || a.since > newest.since)) newest = a;
    return newest;
  }

  async state(): Promise<ConsoleState> {
    const system = this.deps.system();
    const cameras = (await this.deps.cameras()).map((c) => ({ ...c, provider: this.providers.get(c.id) ?? system.provider, action: c.state === 'streaming' ? this.actionOf(c.id) : null }));
    const p50 = this.latency.quantile(0.5);
    const p99 = this.latency.quantile(0.99);
    const clipsDropped = cameras.reduce((n, c) => n + c.clips_dropped, 0);
    return { cameras, system: { ...system, clips_dropped: clipsDropped, inference_ms: p50 === null || p99 === null ? null : { p50: round(p50 * 1000), p99: round(p99 * 1000), clips: this.latency.count } } };
  }

  /** Opens a client's stream with its first messages: the playground's settings, the state, recent events. */
  async open(req: IncomingMessage, res: ServerResponse, init: { camera?: string; phrases: Phrase[] }): Promise<LiveClient | undefined> {
    const playground = this.deps.playground(init.camera);
    const first: LiveMessage[] = [
      ...(playground ? [{ event: 'config', data: playground }] : []),
      { event: 'state', data: await this.state() },
      ...this.recent.map((e) => ({ event: 'action', data: this.deps.eventMessage(e) })),
    ];
    const client = this.feed.open(req, res, init, first);
    if (client && playground) this.configured.add(client);
    return client;
  }

  private async tick(): Promise<void> {
    if (this.feed.size === 0 || this.ticking) return;
    this.ticking = true;
    try {
      // A page opened while the model was loading gets the playground's settings once they exist.
      this.feed.forEach((client) => {
        if (this.configured.has(client)) return;
        const playground = this.deps.playground(client.camera);
        if (!playground) return;
        this.configured.add(client);
        this.feed.send(client, { event: 'config', data: playground });
      });
      this.feed.broadcast({ event: 'state', data: await this.state() });
      this.failing = false;
    } catch (e) {
      // Once per run of failures, not every second.
      if (!this.failing) this.deps.log.error({ err: (e as Error).message }, 'console state failed');
      this.failing = true;
    } finally {
      this.ticking = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.feed.close();
  }
}

function round(x: number): number {
  return Number(x.toFixed(4));
}
