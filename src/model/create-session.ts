// onnxruntime sessions with explicit provider fallback: onnxruntime-node throws when a provider's
// libraries are missing (even for ['cuda','cpu']), so each provider is tried on its own.
import * as ort from 'onnxruntime-node';
import { MstaError } from '../errors.js';
import { sha256File } from './sha256-file.js';

export const PROVIDERS = ['tensorrt', 'cuda', 'cpu'] as const;
export type Provider = (typeof PROVIDERS)[number];

export interface SessionOptions {
  providers: string[];
  /** 0 = onnxruntime decides. */
  intraOpThreads: number;
  interOpThreads: number;
  /** Spin-wait in onnxruntime's thread pools between runs (burns CPU; off unless measured better). */
  spinning: boolean;
  tensorrt: { fp16: boolean; engineCacheDir: string };
}

export interface Fallback {
  provider: Provider;
  reason: string;
}

function providerConfig(provider: Provider, options: SessionOptions): ort.InferenceSession.ExecutionProviderConfig {
  if (provider !== 'tensorrt') return provider;
  // The TensorRT provider reads these names; onnxruntime-node passes provider options through.
  return {
    name: 'tensorrt',
    trt_fp16_enable: options.tensorrt.fp16,
    trt_engine_cache_enable: true,
    trt_engine_cache_path: options.tensorrt.engineCacheDir,
  } as ort.InferenceSession.ExecutionProviderConfig;
}

export function checkProviders(providers: string[]): Provider[] {
  if (providers.length === 0) throw new MstaError('PROVIDER_UNKNOWN', `no execution provider given (choose from ${PROVIDERS.join(', ')})`);
  for (const p of providers) {
    if (!(PROVIDERS as readonly string[]).includes(p)) {
      throw new MstaError('PROVIDER_UNKNOWN', `unknown execution provider "${p}" (choose from ${PROVIDERS.join(', ')})`);
    }
  }
  return providers as Provider[];
}

/** The file is still the one bundle.json pinned (BUNDLE_HASH_MISMATCH otherwise). */
async function checkPinned(path: string, expected: string): Promise<void> {
  const found = await sha256File(path);
  if (found !== expected) {
    throw new MstaError('BUNDLE_HASH_MISMATCH', `sha256 expected ${expected} (bundle.json when loaded), found ${found}: the file changed since; SIGHUP loads the bundle as it is now`, { where: path });
  }
}

/**
 * Opens a graph with the first provider that works; reports each one that did not. `cpuPath`: the
 * graph the CPU provider opens instead (a bundle's int8 variant: GPU providers keep float).
 */
export async function createSession(
  path: string,
  options: SessionOptions,
  cpuPath?: string,
  sha256?: Record<string, string>,
): Promise<{ session: ort.InferenceSession; provider: Provider; fallbacks: Fallback[] }> {
  const fallbacks: Fallback[] = [];
  let lastError: unknown;
  const verified = new Set<string>();
  for (const provider of checkProviders(options.providers)) {
    const file = provider === 'cpu' && cpuPath ? cpuPath : path;
    if (sha256?.[file] !== undefined && !verified.has(file)) {
      await checkPinned(file, sha256[file]);
      verified.add(file);
    }
    try {
      const session = await ort.InferenceSession.create(file, {
        executionProviders: [providerConfig(provider, options)],
        intraOpNumThreads: options.intraOpThreads,
        interOpNumThreads: options.interOpThreads,
        graphOptimizationLevel: 'all',
        ...(options.spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } }),
      });
      return { session, provider, fallbacks };
    } catch (e) {
      lastError = e;
      fallbacks.push({ provider, reason: (e as Error).message.split('\n')[0] ?? String(e) });
    }
  }
  const tried = fallbacks.map((f) => f.provider).join(', ');
  if (options.providers.includes('cpu')) {
    // The CPU provider always exists: failing there means the file itself is broken.
    throw new MstaError('BUNDLE_INVALID', `onnxruntime cannot load it: ${(lastError as Error).message.split('\n')[0]}`, { where: path, cause: lastError });
  }
  throw new MstaError('PROVIDER_UNAVAILABLE', `no execution provider could load it (tried ${tried}; add cpu as a fallback)`, { where: path, cause: lastError });
}
