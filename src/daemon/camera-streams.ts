// A camera's config -> the frame streams its source pipeline makes from the one decode: without
// regions, the whole camera (centre-cropped or letterboxed); with regions, one per region,
// letterboxed (a region is drawn to be seen whole). Masks are the camera's, plus a region's own.
import type { CameraConfig } from '../config/schema.js';
import type { FrameStream } from '../source/pipeline-description.js';

export function cameraStreams(camera: Pick<CameraConfig, 'crop' | 'masks' | 'regions'>): FrameStream[] {
  if (camera.regions.length === 0) return [{ region: null, fit: camera.crop === 'full' ? 'letterbox' : 'center', masks: camera.masks }];
  return camera.regions.map((r) => ({
    region: r.name,
    rect: { x: r.x, y: r.y, width: r.width, height: r.height },
    fit: 'letterbox',
    masks: [...camera.masks, ...r.masks],
  }));
}
