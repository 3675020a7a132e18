// Home Assistant MQTT discovery at run time: configs announced on every connect, when Home
// Assistant comes online (its birth message), when cameras are added, and when the labels change
// (a SIGHUP reload), so the `event` entity's event_types always list the labels that can fire and
// every label has its binary sensor; a label that goes has its binary sensors removed.
import type { LabelChanges } from './camera-labels.js';
import { activeDiscoveryTopic, discoveryConfigs, discoveryTopics, imageDiscoveryTopic, type DeviceInfo, type RetainedMessage, type Streams } from './discovery.js';
import type { PublishKind } from './metrics.js';
import type { SinkTopics } from './topics.js';

export interface HomeAssistantDeps {
  topics: SinkTopics;
  publish(message: RetainedMessage, kind: PublishKind): void;
  cameras(): Iterable<string>;
  /** A camera's streams now: its regions, or the whole camera (null). */
  streams(camera: string): Streams;
  /** A camera stream's reportable labels (a region's own, or its camera's): its event_types, enum options and binary sensors. */
  labelsOf(camera: string, region: string | null): readonly string[];
  log: { info(msg: string): void };
}

/** The label set as discovery sees it: the background label ("none of these") never fires an event. */
export interface DiscoveryLabels {
  labels: readonly string[];
  background?: string;
}

/** The labels an event can carry: event_types of the `event` entity. */
export function eventTypes({ labels, background }: DiscoveryLabels): string[] {
  return labels.filter((l) => background === undefined || l.trim() !== background.trim());
}

export class HomeAssistantDiscovery {
  /** Cameras with snapshots enabled: they have an image entity. */
  private snapshotCameras: Set<string>;

  constructor(
    private readonly deps: HomeAssistantDeps,
    private info: DeviceInfo = {},
    snapshotCameras: Iterable<string> = [],
  ) {
    this.snapshotCameras = new Set(snapshotCameras);
  }

  /** Discovery config topics owned by one camera (cleared with the camera). */
  topicsOf(camera: string): string[] {
    return discoveryTopics(this.deps.topics, camera, (region) => this.deps.labelsOf(camera, region), this.deps.streams(camera), this.snapshotCameras.has(camera));
  }

  /** Cameras whose snapshots are enabled now: image entities announced for new ones, removed for the others. */
  setSnapshotCameras(cameras: Iterable<string>): void {
    const next = new Set(cameras);
    const known = new Set(this.deps.cameras());
    for (const camera of this.snapshotCameras) {
      if (!next.has(camera) && known.has(camera)) this.deps.publish({ topic: imageDiscoveryTopic(this.deps.topics, camera), payload: '' }, 'discovery');
    }
    const added = [...next].filter((c) => !this.snapshotCameras.has(c) && known.has(c));
    this.snapshotCameras = next;
    for (const camera of added) this.announce(camera);
  }

  /** Filters to subscribe to: Home Assistant's birth message and our own configs (for the stale sweep). */
  filters(): string[] {
    const t = this.deps.topics;
    return [t.homeAssistantStatus, ...(['event', 'sensor', 'binary_sensor', 'switch', 'image'] as const).map((c) => t.discoveryConfigFilter(c))];
  }

  announce(camera: string): void {
    for (const message of discoveryConfigs(this.deps.topics, camera, (region) => this.deps.labelsOf(camera, region), this.info, this.deps.streams(camera), this.snapshotCameras.has(camera))) {
      this.deps.publish(message, 'discovery');
    }
  }

  /** New device facts (the console URL once the HTTP server listens): announced again if they changed. */
  setDeviceInfo(info: DeviceInfo): void {
    if (info.version === this.info.version && info.configurationUrl === this.info.configurationUrl) return;
    this.info = info;
    this.announceAll();
  }

  announceAll(): void {
    for (const camera of this.deps.cameras()) this.announce(camera);
  }

  /**
   * New reportable labels on some of a camera's streams (labelsOf says them now; `before` what each
   * changed stream had): the binary sensors of labels that went are removed, the rest announced again.
   */
  relabel(camera: string, before: NonNullable<ReturnType<LabelChanges['get']>>): void {
    const streams = this.deps.streams(camera);
    for (const [region, was] of before) {
      if (!streams.includes(region)) continue;
      const labels = this.deps.labelsOf(camera, region);
      for (const label of was) {
        if (!labels.includes(label)) this.deps.publish({ topic: activeDiscoveryTopic(this.deps.topics, camera, region, label), payload: '' }, 'discovery');
      }
    }
    const counts = streams.map((region) => this.deps.labelsOf(camera, region).length);
    this.deps.log.info(`labels of ${camera} changed: re-announcing Home Assistant discovery (${counts.join(', ')} event types)`);
    this.announce(camera);
  }

  /** True when the message was Home Assistant's status (handled here). */
  onMessage(topic: string, payload: Buffer): boolean {
    if (topic !== this.deps.topics.homeAssistantStatus) return false;
    if (payload.toString() === 'online') {
      this.deps.log.info('Home Assistant came online: re-announcing discovery configs');
      this.announceAll();
    }
    return true;
  }
}
