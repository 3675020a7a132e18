// Each camera's reportable labels (its own label set, or the one all cameras share): its active
// topics, and its Home Assistant event_types, enum options and binary sensors.
import { eventTypes, type DiscoveryLabels } from './home-assistant.js';

export class CameraLabels {
  private shared: string[];
  private readonly own = new Map<string, string[]>();

  constructor(labels: DiscoveryLabels = { labels: [] }, cameraLabels: Readonly<Record<string, DiscoveryLabels>> = {}) {
    this.shared = eventTypes(labels);
    for (const [camera, l] of Object.entries(cameraLabels)) this.own.set(camera, eventTypes(l));
  }

  of(camera: string): readonly string[] {
    return this.own.get(camera) ?? this.shared;
  }

  /**
   * New labels (a reload); a camera missing from `cameraLabels` keeps its own until forgotten (it is
   * leaving: its topics are cleared with the labels it had). Returns, for each of `cameras` whose
   * labels changed, the labels it had before.
   */
  update(labels: DiscoveryLabels, cameraLabels: Readonly<Record<string, DiscoveryLabels>>, cameras: Iterable<string>): Map<string, readonly string[]> {
    const before = new Map([...cameras].map((c) => [c, this.of(c)]));
    this.shared = eventTypes(labels);
    for (const [camera, l] of Object.entries(cameraLabels)) this.own.set(camera, eventTypes(l));
    const changed = new Map<string, readonly string[]>();
    for (const [camera, was] of before) {
      const now = this.of(camera);
      if (was.length !== now.length || was.some((l, i) => l !== now[i])) changed.set(camera, was);
    }
    return changed;
  }

  forget(camera: string): void {
    this.own.delete(camera);
  }
}
