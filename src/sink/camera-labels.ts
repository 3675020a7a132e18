// Each camera stream's reportable labels (a region's own label set, its camera's, or the one all
// cameras share): its active topics, and its Home Assistant event_types, enum options and binary
// sensors. Keyed by stream key: the camera id, and camera/region for a region.
import { streamKey } from '../types.js';
import { eventTypes, type DiscoveryLabels } from './home-assistant.js';

/** For each camera whose labels changed, the labels each of its changed streams had before. */
export type LabelChanges = Map<string, Map<string | null, readonly string[]>>;

export class CameraLabels {
  private shared: string[];
  private readonly own = new Map<string, string[]>();

  /** `cameraLabels` by stream key: a camera id, or camera/region (a region absent there has its camera's). */
  constructor(labels: DiscoveryLabels = { labels: [] }, cameraLabels: Readonly<Record<string, DiscoveryLabels>> = {}) {
    this.shared = eventTypes(labels);
    for (const [key, l] of Object.entries(cameraLabels)) this.own.set(key, eventTypes(l));
  }

  of(camera: string, region: string | null = null): readonly string[] {
    return (region !== null ? this.own.get(streamKey(camera, region)) : undefined) ?? this.own.get(camera) ?? this.shared;
  }

  /**
   * New labels (a reload); a stream missing from `cameraLabels` keeps its own until forgotten (it is
   * leaving: its topics are cleared with the labels it had). Returns, for each of `streams` whose
   * labels changed, the labels it had before, by camera.
   */
  update(labels: DiscoveryLabels, cameraLabels: Readonly<Record<string, DiscoveryLabels>>, streams: Iterable<readonly [string, string | null]>): LabelChanges {
    const before = [...streams].map(([camera, region]) => ({ camera, region, was: this.of(camera, region) }));
    this.shared = eventTypes(labels);
    for (const [key, l] of Object.entries(cameraLabels)) this.own.set(key, eventTypes(l));
    const changed: LabelChanges = new Map();
    for (const { camera, region, was } of before) {
      const now = this.of(camera, region);
      if (was.length === now.length && was.every((l, i) => l === now[i])) continue;
      const streamsOf = changed.get(camera) ?? new Map<string | null, readonly string[]>();
      changed.set(camera, streamsOf.set(region, was));
    }
    return changed;
  }

  /** A camera leaving: its own labels and its regions'. */
  forget(camera: string): void {
    for (const key of [...this.own.keys()]) if (key === camera || key.startsWith(`${camera}/`)) this.own.delete(key);
  }
}
