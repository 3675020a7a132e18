// The snapshot branch of a camera's pipeline: from the tee that carries the whole decoded frame
// (after the rate limiter, before any model crop), a low rate, a valve, then a viewable width and
// JPEG encoding in GStreamer, into its own appsink. The valve is shut unless the parent wants
// JPEGs (snapshots enabled, or someone watching): shut, it drops in the tee's thread, and nothing
// downstream of it (queue, scaling, encoding) runs.

/** The branch's appsink and valve names in every description. */
export const SNAPSHOT_APPSINK = 'snapshots';
export const SNAPSHOT_VALVE = 'snapshot_valve';

/** A rectangle in fractions of the frame (as the config's masks). */
export interface SnapshotMask {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface SnapshotBranchOptions {
  /** JPEG width in pixels; the source's own width when narrower (never upscaled). Height keeps the aspect. */
  width: number;
  /** jpegenc quality, 1-100. */
  quality: number;
  /** JPEGs per second at most (whole frames per second). */
  fps: number;
  /** Whether the valve starts open. */
  encoding: boolean;
  /** The camera's masks, painted black on the JPEG too (a bed or a neighbour's window stays private). */
  masks?: readonly SnapshotMask[];
}

/**
 * An overlay of the masks in fractions: the SVG's unit viewBox stretched over the frame, whatever
 * size the JPEG ends up (the width is only known as a range here). Single quotes only, so it sits
 * in a double-quoted property value as it is.
 */
function maskOverlay(masks: readonly SnapshotMask[]): string[] {
  const rects = masks.map((m) => `<rect x='${m.x}' y='${m.y}' width='${m.width}' height='${m.height}' fill='black'/>`).join('');
  const svg = `<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 1 1' width='1' height='1' preserveAspectRatio='none'>${rects}</svg>`;
  // rsvgoverlay draws on packed RGB with alpha only.
  return ['videoconvert', `rsvgoverlay fit-to-frame=true data="${svg}"`, 'videoconvert'];
}

/**
 * The branch's elements, to hang off the tee of the whole frame with no queue before them. `sync`
 * as the frames' appsinks: a paced source releases JPEGs at their timestamps, so arrival is capture
 * time on the frames' clock.
 */
export function snapshotBranch(o: SnapshotBranchOptions, sync: boolean): string[] {
  return [
    // Before the valve, so it sees every frame's timestamp: after it, a valve opened late would let
    // a burst through while videorate caught up from the stream's start. Dropping is timestamps only.
    `videorate drop-only=true max-rate=${o.fps}`,
    // Sticky events pass even while shut: caps and segments, and the end of stream, without which a
    // file's end would never be reported (the pipeline waits for every sink's EOS).
    `valve name=${SNAPSHOT_VALVE} drop=${o.encoding ? 'false' : 'true'} drop-mode=forward-sticky-events`,
    // Its own thread: encoding never holds up the frames for the model; a slow encoder loses JPEGs, not frames.
    'queue leaky=downstream max-size-buffers=1 max-size-bytes=0 max-size-time=0',
    'videoscale',
    'videoconvert',
    // A width range: videoscale keeps the source width when it is within it, and the display
    // aspect ratio in square pixels.
    `video/x-raw,width=[1,${o.width}],pixel-aspect-ratio=1/1`,
    ...(o.masks && o.masks.length > 0 ? maskOverlay(o.masks) : []),
    `jpegenc quality=${o.quality}`,
    // async=false: a sink behind a shut valve never prerolls, and would hold the whole pipeline out of PLAYING.
    `appsink name=${SNAPSHOT_APPSINK} max-buffers=1 drop=true sync=${sync ? 'true' : 'false'} async=false enable-last-sample=false`,
  ];
}
