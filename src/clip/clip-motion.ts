import type { Clip } from '../types.js';

/** Pixels sampled per frame side: a grid of at most GRID x GRID (a few hundred pixels per frame). */
const GRID = 24;

/** A sampled pixel has changed when its grey level moved by more than this (codec noise stays below). */
const PIXEL_CHANGE = 16;

/**
 * How much a clip moves: the largest share (percent) of a sparse grid of pixels that changed by
 * more than PIXEL_CHANGE grey levels (green channel as luma) between two consecutive frames. A
 * share, not a mean difference, so a small moving object counts as much as its area, as in
 * Frigate's motion detection. A few thousand byte reads per clip: nothing next to inference.
 */
export function clipMotion(clip: Clip): number {
  const { frames, width, height, data } = clip;
  const frameBytes = width * height * 3;
  const stepX = Math.max(1, Math.floor(width / GRID));
  const stepY = Math.max(1, Math.floor(height / GRID));
  let most = 0;
  for (let f = 1; f < frames; f++) {
    const a = (f - 1) * frameBytes;
    const b = f * frameBytes;
    let sum = 0;
    let n = 0;
    for (let y = stepY >> 1; y < height; y += stepY) {
      for (let x = stepX >> 1; x < width; x += stepX) {
        const i = (y * width + x) * 3 + 1;
        if (Math.abs(data[b + i]! - data[a + i]!) > PIXEL_CHANGE) sum++;
        n++;
      }
    }
    most = Math.max(most, n ? (100 * sum) / n : 0);
  }
  return most;
}
