// Scores of one clip over the labels: softmax(logit_scale * video_embed . label_embeds), the
// model's own way of comparing a video with texts. Embeddings are L2-normalised, so the dot
// product is the cosine similarity.

/**
 * Probabilities over the labels (sum 1) for one video embedding. `labelEmbeds` is row-major
 * [labels, dim]; `logitScale` is the multiplier itself (CLIP's exp(logit_scale), about 100).
 */
export function labelScores(videoEmbed: Float32Array, labelEmbeds: Float32Array, logitScale: number): Float64Array {
  const dim = videoEmbed.length;
  if (dim === 0 || labelEmbeds.length % dim !== 0) {
    throw new RangeError(`label embeddings (${labelEmbeds.length} values) are not rows of the video embedding's ${dim}`);
  }
  const logits = new Float64Array(labelEmbeds.length / dim);
  for (let row = 0; row < logits.length; row++) {
    let dot = 0;
    for (let i = 0; i < dim; i++) dot += videoEmbed[i]! * labelEmbeds[row * dim + i]!;
    logits[row] = logitScale * dot;
  }
  return softmax(logits);
}

/** Numerically stable softmax: the largest logit is subtracted before exponentiating. */
export function softmax(logits: Float64Array): Float64Array {
  let max = -Infinity;
  for (const x of logits) if (x > max) max = x;
  const out = logits.map((x) => Math.exp(x - max));
  let sum = 0;
  for (const x of out) sum += x;
  return out.map((x) => x / sum);
}
