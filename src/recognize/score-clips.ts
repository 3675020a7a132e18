import { map, type OperatorFunction } from 'rxjs';
import type { Clip, ClipEmbedding } from '../types.js';
import { labelScores } from './label-scores.js';

/** One clip's scores over the label set, in label order (softmax probabilities, sum 1). */
export interface ClipScores {
  clip: Omit<Clip, 'data'>;
  scores: Float64Array;
  /** Seconds its batch's inference took, carried on to its events. */
  inferenceSeconds: number;
}

/** Video embeddings -> label scores (see labelScores; `labelEmbeds` row-major [labels, dim]). */
export function scoreClips(labelEmbeds: Float32Array, logitScale: number): OperatorFunction<ClipEmbedding, ClipScores> {
  return map((e) => ({ clip: e.clip, scores: labelScores(e.embedding, labelEmbeds, logitScale), inferenceSeconds: e.inferenceSeconds }));
}
