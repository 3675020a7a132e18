import { z } from 'zod';

/**
 * How a clip's frames are taken: one every interval_ms, or T frames spread uniformly over a clip
 * of clip_ms (ViCLIP's way; one per clip_ms / T segment, so also a fixed step the sampler keeps).
 */
const samplingSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('interval'), interval_ms: z.number().positive() }),
  z.strictObject({ mode: z.literal('uniform'), clip_ms: z.number().positive() }),
]);

/** bundle.json of an msta-bundle/1 directory (DESIGN.md "Model bundle"). Extra keys are allowed. */
export const bundleManifestSchema = z.object({
  format: z.literal('msta-bundle/1'),
  name: z.string().min(1),
  backbone: z.string().min(1),
  frames: z.number().int().positive(),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  embed_dim: z.number().int().positive(),
  logit_scale: z.number().positive(),
  context_length: z.number().int().positive(),
  template: z.string().includes('{}'),
  tokenizer: z.object({ type: z.literal('clip-bpe'), vocab: z.string().min(1) }),
  pixel: z.object({ mean: z.array(z.number()).length(3), std: z.array(z.number()).length(3) }).optional(),
  frame_interval_ms: z.number().positive().optional(),
  sampling: samplingSchema.optional(),
  labels: z.array(z.string()).optional(),
  /** Optional graphs beside the fp32 ones: `int8.video` is a dynamically quantised video graph for CPU hosts. */
  variants: z.object({ int8: z.object({ video: z.string().min(1) }).optional() }).optional(),
  files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest')),
}).superRefine((m, ctx) => {
  // Both stated (the export writes both, for older daemons): they must say the same thing.
  if (m.sampling !== undefined && m.frame_interval_ms !== undefined) {
    const step = samplingStepMs(m.sampling, m.frames);
    if (Math.abs(step - m.frame_interval_ms) > 1e-6 * step) {
      ctx.addIssue({ code: 'custom', path: ['frame_interval_ms'], message: `${m.frame_interval_ms} ms disagrees with sampling (${JSON.stringify(m.sampling)}: a frame every ${step} ms)` });
    }
  }
});

export type BundleSampling = z.output<typeof samplingSchema>;

function samplingStepMs(s: BundleSampling, frames: number): number {
  return s.mode === 'interval' ? s.interval_ms : s.clip_ms / frames;
}

/** The time between two sampled frames the bundle was trained with; undefined if it does not say. */
export function bundleFrameIntervalMs(m: Pick<BundleManifest, 'sampling' | 'frame_interval_ms' | 'frames'>): number | undefined {
  return m.sampling !== undefined ? samplingStepMs(m.sampling, m.frames) : m.frame_interval_ms;
}

export type BundleManifest = z.output<typeof bundleManifestSchema>;

export const VIDEO_GRAPH = 'video.onnx';
export const TEXT_GRAPH = 'text.onnx';
