// Playground phrases: checked (length, printable), embedded by the text model once and kept (a
// bounded most-recently-used cache), new ones rate-limited per client address. Nothing here
// touches the configured labels or the published events.
import type { ConsoleMetrics } from './console-metrics.js';
import { RateLimit } from './rate-limit.js';

export interface PhraseLimits {
  maxChars: number;
  perMinute: number;
}

/** What is wrong with a phrase, or undefined: non-empty, at most maxChars, no control characters. */
export function phraseProblem(text: string, maxChars: number): string | undefined {
  const phrase = text.trim();
  if (phrase === '') return 'the phrase is empty';
  if ([...phrase].length > maxChars) return `the phrase is longer than ${maxChars} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(phrase)) return 'the phrase holds control characters';
  return undefined;
}

/** How a camera's phrases are embedded: `key` names the way (its labels' template), so cameras sharing it share the cache. */
export interface PhraseEmbedder {
  key: string;
  embed(phrase: string): Promise<Float32Array>;
}

export type PhraseAnswer =
  | { ok: true; phrase: string; embedding: Float32Array; cached: boolean }
  | { ok: false; status: 400 | 429 | 500; error: string };

export class PhraseBook {
  private readonly cache = new Map<string, Promise<Float32Array>>();
  private readonly limit: RateLimit;

  constructor(
    /** The text model for a camera's phrases (the global labels' without one); undefined until the model is loaded. */
    private readonly embedder: (camera?: string) => PhraseEmbedder | undefined,
    private readonly limits: PhraseLimits,
    private readonly metrics: ConsoleMetrics,
    private readonly capacity = 256,
    private readonly now: () => number = Date.now,
  ) {
    this.limit = new RateLimit(limits.perMinute);
  }

  /**
   * The phrase's embedding for `client`, as a label of `camera` would be embedded; a phrase not yet
   * embedded that way costs one of the client's tokens.
   */
  async resolve(client: string, text: string, camera?: string): Promise<PhraseAnswer> {
    const problem = phraseProblem(text, this.limits.maxChars);
    if (problem !== undefined) {
      this.metrics.phrase('invalid');
      return { ok: false, status: 400, error: problem };
    }
    const phrase = text.trim();
    const embedder = this.embedder(camera);
    if (!embedder) return { ok: false, status: 500, error: 'the model is still loading' };
    const key = `${embedder.key}\n${phrase}`;
    const known = this.cache.get(key);
    if (known) {
      this.cache.delete(key);
      this.cache.set(key, known);
      this.metrics.phrase('cached');
      return known.then(
        (embedding) => ({ ok: true, phrase, embedding, cached: true }),
        (e: unknown) => ({ ok: false, status: 500, error: `embedding failed: ${(e as Error).message}` }),
      );
    }
    if (!this.limit.take(client, this.now())) {
      this.metrics.phrase('rate_limited');
      return { ok: false, status: 429, error: `more than ${this.limits.perMinute} new phrases a minute from this client: wait a little` };
    }
    const pending = embedder.embed(phrase);
    this.cache.set(key, pending);
    if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
    try {
      const embedding = await pending;
      this.metrics.phrase('embedded');
      return { ok: true, phrase, embedding, cached: false };
    } catch (e) {
      // Not kept: the next try embeds it again.
      this.cache.delete(key);
      this.metrics.phrase('failed');
      return { ok: false, status: 500, error: `embedding failed: ${(e as Error).message}` };
    }
  }
}
