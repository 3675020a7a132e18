// A label's embedding is the L2-normalised mean of its prompts' embeddings (the template filled
// with its name, plus its descriptions: a prompt ensemble), as DESIGN.md's bundle contract says.
import type { LabelSet } from './label-set.js';

/** The L2-normalised mean of equally long vectors (summed in float64, returned as float32). */
export function normalizedMean(vectors: readonly Float32Array[]): Float32Array {
  const first = vectors[0];
  if (!first) throw new RangeError('no vectors to average');
  const sum = new Float64Array(first.length);
  for (const v of vectors) {
    if (v.length !== sum.length) throw new RangeError(`vector length ${v.length}, expected ${sum.length}`);
    for (let i = 0; i < v.length; i++) sum[i]! += v[i]!;
  }
  let norm = 0;
  for (const x of sum) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm === 0) throw new RangeError('the mean is the zero vector: it has no direction');
  return Float32Array.from(sum, (x) => x / norm);
}

/**
 * Label embeddings, row-major [labels, dim], from each prompt's embedding (as the text model gave
 * it, e.g. embedPrompts' map). A label whose prompts cancel out is an error naming the label.
 */
export function labelEmbeddings(set: LabelSet, promptEmbeddings: ReadonlyMap<string, Float32Array>, dim: number): Float32Array {
  const out = new Float32Array(set.labels.length * dim);
  set.labels.forEach((label, row) => {
    const vectors = label.prompts.map((p) => {
      const e = promptEmbeddings.get(p);
      if (!e) throw new RangeError(`no embedding for prompt ${JSON.stringify(p)} of label ${JSON.stringify(label.name)}`);
      if (e.length !== dim) throw new RangeError(`prompt ${JSON.stringify(p)}: embedding length ${e.length}, expected ${dim}`);
      return e;
    });
    try {
      out.set(normalizedMean(vectors), row * dim);
    } catch (e) {
      throw new RangeError(`label ${JSON.stringify(label.name)}: ${(e as Error).message}`);
    }
  });
  return out;
}
