// Exponential moving average of per-label scores over a camera's consecutive clips: one clip's
// flicker does not start or end an action. The result still sums to 1 when the inputs do.

/**
 * `smoothing` is the weight of the newest clip (1 = no smoothing); the first clip (no previous)
 * is taken as it is.
 */
export function emaScores(previous: Float64Array | null, current: ArrayLike<number>, smoothing: number): Float64Array {
  if (!(smoothing > 0 && smoothing <= 1)) throw new RangeError(`smoothing must be in (0, 1], got ${smoothing}`);
  const out = Float64Array.from(current);
  if (previous === null) return out;
  if (previous.length !== out.length) throw new RangeError(`score vectors of ${previous.length} and ${out.length} labels`);
  for (let i = 0; i < out.length; i++) out[i] = smoothing * out[i]! + (1 - smoothing) * previous[i]!;
  return out;
}
