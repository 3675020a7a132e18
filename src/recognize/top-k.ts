import type { LabelScore } from '../types.js';

/** The k best labels, best first; equal scores keep label order. */
export function topK(names: readonly string[], scores: ArrayLike<number>, k: number): LabelScore[] {
  return names
    .map((label, i) => ({ label, score: scores[i]! }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}
