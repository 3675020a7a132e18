// Text prompts -> embeddings, computed in batches at start-up (700 labels must not look like a hang)
// and cached on disk per bundle: a prompt's embedding depends only on the bundle and the text.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PromptEmbeddingOptions {
  /** Token ids for one prompt, padded/truncated to the bundle's context length. */
  tokenize: (text: string) => ArrayLike<number>;
  contextLength: number;
  embedDim: number;
  embedTokens: (ids: BigInt64Array, rows: number) => Promise<Float32Array>;
  /** Cache folder; one file per bundle hash. Undefined = no cache. */
  cacheDir?: string;
  bundleSha256: string;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

interface CacheFile {
  bundle: string;
  dim: number;
  /** prompt -> base64 of its float32 embedding */
  prompts: Record<string, string>;
}

function readCache(path: string, bundle: string, dim: number): Map<string, Float32Array> {
  try {
    const file = JSON.parse(readFileSync(path, 'utf8')) as CacheFile;
    if (file.bundle !== bundle || file.dim !== dim) return new Map();
    return new Map(
      Object.entries(file.prompts).map(([prompt, b64]) => {
        const bytes = Buffer.from(b64, 'base64');
        return [prompt, new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length))];
      }),
    );
  } catch {
    // Missing or unreadable cache: recompute; it is only a cache.
    return new Map();
  }
}

function writeCache(path: string, bundle: string, dim: number, cache: Map<string, Float32Array>): void {
  const file: CacheFile = { bundle, dim, prompts: {} };
  for (const [prompt, e] of cache) file.prompts[prompt] = Buffer.from(e.buffer, e.byteOffset, e.byteLength).toString('base64');
  // Write then rename: a crash mid-write leaves the old cache, never a torn one.
  writeFileSync(`${path}.tmp`, JSON.stringify(file));
  renameSync(`${path}.tmp`, path);
}

/** Embeddings for every prompt (in the order given), from the cache where possible. */
export async function embedPrompts(prompts: readonly string[], o: PromptEmbeddingOptions): Promise<{ embeddings: Map<string, Float32Array>; computed: number }> {
  const cachePath = o.cacheDir ? join(o.cacheDir, `prompts-${o.bundleSha256.slice(0, 16)}.json`) : undefined;
  const cache = cachePath ? readCache(cachePath, o.bundleSha256, o.embedDim) : new Map<string, Float32Array>();
  const missing = [...new Set(prompts)].filter((p) => !cache.has(p));
  const batchSize = o.batchSize ?? 64;
  for (let start = 0; start < missing.length; start += batchSize) {
    const batch = missing.slice(start, start + batchSize);
    const ids = new BigInt64Array(batch.length * o.contextLength);
    batch.forEach((prompt, row) => {
      const tokens = o.tokenize(prompt);
      for (let i = 0; i < o.contextLength; i++) ids[row * o.contextLength + i] = BigInt(tokens[i] ?? 0);
    });
    const embeds = await o.embedTokens(ids, batch.length);
    batch.forEach((prompt, row) => cache.set(prompt, embeds.slice(row * o.embedDim, (row + 1) * o.embedDim)));
    o.onProgress?.(start + batch.length, missing.length);
  }
  if (cachePath && missing.length > 0) {
    mkdirSync(o.cacheDir!, { recursive: true });
    writeCache(cachePath, o.bundleSha256, o.embedDim, cache);
  }
  return { embeddings: new Map(prompts.map((p) => [p, cache.get(p)!])), computed: missing.length };
}
