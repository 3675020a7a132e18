import { z } from 'zod';

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
  labels: z.array(z.string()).optional(),
  /** Optional graphs beside the fp32 ones: `int8.video` is a dynamically quantised video graph for CPU hosts. */
  variants: z.object({ int8: z.object({ video: z.string().min(1) }).optional() }).optional(),
  files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest')),
});

export type BundleManifest = z.output<typeof bundleManifestSchema>;

export const VIDEO_GRAPH = 'video.onnx';
export const TEXT_GRAPH = 'text.onnx';
