// Snapshots of events: at an occurrence's start, and at each update that scores higher than the
// one its snapshot was taken at, the JPEG nearest the clip's key frame (the middle of its first and
// last frame) is kept: written to the event history and published retained on MQTT. Only for
// cameras with snapshots enabled (JPEGs encoded for someone watching live are never kept).
import type { ActionEvent, Snapshot } from '../types.js';

/** An event's JPEG is one captured at most this far from its clip's key frame. */
export const KEY_FRAME_TOLERANCE_MS = 3000;

export interface EventSnapshotDeps {
  enabled(camera: string): boolean;
  nearest(camera: string, at: number, maxDistanceMs: number): Snapshot | undefined;
  /** The event history's file writer, when there is one; resolves false when it kept none. */
  save?(id: string, jpeg: Buffer): Promise<boolean>;
  publish(camera: string, jpeg: Buffer): void;
}

/** The key frame of the event's clip: the middle of its first and last frames (epoch ms). */
export function keyFrameTime(event: ActionEvent): number {
  return (event.clip.firstFrameAt + event.clip.lastFrameAt) / 2;
}

export class EventSnapshots {
  /** Open occurrences with a snapshot: the score of the event it was taken at. */
  private readonly taken = new Map<string, number>();

  constructor(private readonly deps: EventSnapshotDeps) {}

  /** The event as published: `snapshot` says whether its occurrence has one (taken now or before). */
  onEvent(event: ActionEvent): ActionEvent {
    const { id, camera } = event;
    if (event.type === 'end') {
      const had = this.taken.delete(id);
      return { ...event, snapshot: had };
    }
    if (!this.deps.enabled(camera)) return { ...event, snapshot: false };
    const before = this.taken.get(id);
    if (before === undefined || event.score > before) {
      const jpeg = this.deps.nearest(camera, keyFrameTime(event), KEY_FRAME_TOLERANCE_MS);
      if (jpeg) {
        this.taken.set(id, event.score);
        void this.deps.save?.(id, jpeg.jpeg);
        this.deps.publish(camera, jpeg.jpeg);
      }
    }
    return { ...event, snapshot: this.taken.has(id) };
  }
}
