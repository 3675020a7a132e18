import { MstaError } from '../errors.js';
import type { BundleManifest } from './bundle-manifest.js';

/** One graph input or output as onnxruntime reports it (a subset of its ValueMetadata). */
export interface GraphValue {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: ReadonlyArray<number | string>;
}

export interface GraphSignature {
  inputs: readonly GraphValue[];
  outputs: readonly GraphValue[];
}

/** A dimension the daemon needs fixed (a number) or free (null: dynamic batch). */
interface ExpectedValue {
  name: string;
  type: string;
  shape: (number | null)[];
}

export function expectedSignatures(m: BundleManifest): Record<'video' | 'text', { inputs: ExpectedValue[]; outputs: ExpectedValue[] }> {
  return {
    video: {
      inputs: [{ name: 'frames', type: 'uint8', shape: [null, m.frames, m.height, m.width, 3] }],
      outputs: [{ name: 'video_embeds', type: 'float32', shape: [null, m.embed_dim] }],
    },
    text: {
      inputs: [{ name: 'input_ids', type: 'int64', shape: [null, m.context_length] }],
      outputs: [{ name: 'text_embeds', type: 'float32', shape: [null, m.embed_dim] }],
    },
  };
}

const show = (type: string | undefined, shape: ReadonlyArray<number | string | null> | undefined): string =>
  `${type ?? '?'} [${(shape ?? []).map((d) => (d === null ? 'batch' : String(d))).join(',')}]`;

/**
 * Compares a loaded graph with what bundle.json promises; throws naming the first difference
 * (expected vs found). A batch dimension must be dynamic: the daemon batches clips.
 */
export function checkGraph(file: string, found: GraphSignature, expected: { inputs: ExpectedValue[]; outputs: ExpectedValue[] }): void {
  for (const side of ['inputs', 'outputs'] as const) {
    const names = found[side].map((v) => v.name);
    for (const want of expected[side]) {
      const got = found[side].find((v) => v.name === want.name);
      const what = `${side.slice(0, -1)} "${want.name}"`;
      if (!got) throw new MstaError('BUNDLE_GRAPH_MISMATCH', `${what} expected, found ${side} [${names.join(', ')}]`, { where: file });
      const shapeOk =
        got.isTensor &&
        got.type === want.type &&
        got.shape?.length === want.shape.length &&
        want.shape.every((d, i) => (d === null ? typeof got.shape![i] === 'string' || got.shape![i] === -1 : got.shape![i] === d));
      if (!shapeOk) {
        throw new MstaError('BUNDLE_GRAPH_MISMATCH', `${what} expected ${show(want.type, want.shape)}, found ${show(got.type, got.shape)}`, { where: file });
      }
    }
  }
}
