// A camera's `snapshots` section: JPEGs of the whole frame for its events (stored, published on
// MQTT, shown in Home Assistant) and the console's live view.
import { z } from 'zod';

export const snapshotSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        "keep a JPEG of each event's key frame (event history, retained <base>/<camera>/snapshot, Home Assistant image); off by default for privacy. The console's live view encodes JPEGs only while someone watches either way",
      ),
    width: z.number().int().min(16).max(7680).default(640).describe('JPEG width in pixels, never more than the camera sends; the height keeps its aspect'),
    quality: z.number().int().min(1).max(100).default(80).describe('JPEG quality (GStreamer jpegenc)'),
    fps: z.number().int().min(1).max(30).default(2).describe('JPEGs a second at most, encoded in the camera pipeline'),
  })
  .prefault({});

export type SnapshotConfig = z.output<typeof snapshotSchema>;
