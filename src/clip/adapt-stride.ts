export interface StrideDemand {
  /** Cameras sharing the model. */
  cameras: number;
  /** Sampled frames per second per camera (1000 / frame interval). */
  framesPerSecond: number;
  /** Measured clips per second the model infers; undefined before it has been measured. */
  capacity: number | undefined;
  /** The configured stride: the most clips anyone wants. */
  floor: number;
  ceiling: number;
  /** The share of capacity to plan for, so that the queue stays short (e.g. 0.9). */
  utilisation: number;
}

/**
 * The clip stride (sampled frames between clips) at which every camera together asks for about
 * what the model can infer: no clip is made only to be replaced, and the clips a camera gets stay
 * evenly spaced. Within [floor, ceiling]; the floor until capacity is known.
 */
export function adaptStride(d: StrideDemand): number {
  if (d.capacity === undefined || d.capacity <= 0 || d.cameras === 0) return d.floor;
  const wanted = Math.ceil((d.cameras * d.framesPerSecond) / (d.capacity * d.utilisation));
  return Math.min(d.ceiling, Math.max(d.floor, wanted));
}
