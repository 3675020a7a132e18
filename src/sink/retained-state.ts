// Retained per-camera state: the latest status and recognition switch of each configured camera,
// the action state and per-label ON/OFF of each of its streams (the whole camera, or each of its
// regions of interest), republished on every (re)connect (a broker restarted without persistence
// forgets retained messages), and the sweep that clears retained topics no configured camera,
// region or label owns any more.
import { streamKey, type CameraStatus } from '../types.js';
import type { LabelChanges } from './camera-labels.js';
import type { RetainedMessage } from './discovery.js';
import type { PublishKind } from './metrics.js';
import { actionStatePayload, cameraStatusPayload, type ActionState } from './payloads.js';
import type { SinkTopics } from './topics.js';

export interface RetainedStateDeps {
  topics: SinkTopics;
  /** Publishes retained while connected (else the value waits for the next connect). */
  publish(message: RetainedMessage, kind: PublishKind): void;
  /** Further topics a camera owns with its streams now (its discovery configs), cleared with it. */
  extraTopics(camera: string): string[];
  /** A camera stream's reportable labels (a region's own, or its camera's): one active topic each. */
  labelsOf(camera: string, region: string | null): readonly string[];
  log: { info(msg: string): void };
}

export function kindOfTopic(topic: string): PublishKind {
  if (topic.endsWith('/config')) return 'discovery';
  if (topic.endsWith('/snapshot')) return 'snapshot';
  return topic.endsWith('/status') ? 'status' : 'state';
}

const onOff = (on: boolean): string => (on ? 'ON' : 'OFF');

/** Each camera's regions of interest (cameras without any are absent or map to []). */
export type CameraRegions = Readonly<Record<string, readonly string[]>>;

export class RetainedState {
  private cameraSet: Set<string>;
  private readonly statuses = new Map<string, CameraStatus>();
  private readonly states = new Map<string, ActionState>();
  private readonly recognitions = new Map<string, boolean>();
  private regions: CameraRegions;

  constructor(
    private readonly deps: RetainedStateDeps,
    cameras: readonly string[],
    regions: CameraRegions = {},
  ) {
    this.cameraSet = this.valid(cameras, regions);
    this.regions = regions;
  }

  get cameras(): ReadonlySet<string> {
    return this.cameraSet;
  }

  /** A camera's streams: its regions, or the whole camera (null) when it has none. */
  streams(camera: string): Array<string | null> {
    const regions = this.regions[camera] ?? [];
    return regions.length > 0 ? [...regions] : [null];
  }

  status(status: CameraStatus): void {
    const topic = this.deps.topics.cameraStatus(status.camera);
    this.statuses.set(status.camera, status);
    this.deps.publish({ topic, payload: JSON.stringify(cameraStatusPayload(status)) }, 'status');
  }

  /** The state, and the ON/OFF of the labels it turns on or off (all of them when `all`). */
  state(state: ActionState, all = false): void {
    const region = state.region ?? null;
    const key = streamKey(state.camera, region);
    const topic = this.deps.topics.state(state.camera, region);
    const before = this.states.get(key)?.label ?? null;
    this.states.set(key, state);
    this.deps.publish({ topic, payload: JSON.stringify(actionStatePayload(state)) }, 'state');
    for (const label of this.deps.labelsOf(state.camera, region)) {
      if (all || label === before || label === state.label) this.active(state.camera, region, label);
    }
  }

  /** Retained `ON` / `OFF` on `<base>/<camera>/recognition`. */
  recognition(camera: string, enabled: boolean): void {
    const topic = this.deps.topics.recognition(camera);
    this.recognitions.set(camera, enabled);
    this.deps.publish({ topic, payload: onOff(enabled) }, 'state');
  }

  /** Republishes every known value (on connect); labels of a camera with no state yet are OFF. */
  republish(): void {
    for (const status of this.statuses.values()) this.status(status);
    for (const [camera, enabled] of this.recognitions) this.recognition(camera, enabled);
    for (const camera of this.cameraSet) {
      for (const region of this.streams(camera)) {
        const state = this.states.get(streamKey(camera, region));
        if (state) this.state(state, true);
        else for (const label of this.deps.labelsOf(camera, region)) this.active(camera, region, label);
      }
    }
  }

  /** New reportable labels on some of a camera's streams (labelsOf says them now; `before` what each had): the active topics of labels that went are cleared, new ones published. */
  relabel(camera: string, before: NonNullable<ReturnType<LabelChanges['get']>>): void {
    if (!this.cameraSet.has(camera)) return;
    const streams = this.streams(camera);
    for (const [region, was] of before) {
      if (!streams.includes(region)) continue;
      const labels = this.deps.labelsOf(camera, region);
      for (const label of was) if (!labels.includes(label)) this.deps.publish({ topic: this.deps.topics.active(camera, label, region), payload: '' }, 'state');
      for (const label of labels) if (!was.includes(label)) this.active(camera, region, label);
    }
  }

  private active(camera: string, region: string | null, label: string): void {
    const on = this.states.get(streamKey(camera, region))?.label === label;
    this.deps.publish({ topic: this.deps.topics.active(camera, label, region), payload: onOff(on) }, 'state');
  }

  /**
   * Replaces the camera list and their regions; returns the cameras whose streams are new or
   * changed (to announce again). Whatever a removed camera or region owned is cleared here.
   */
  setCameras(cameras: readonly string[], regions: CameraRegions = this.regions): string[] {
    const next = this.valid(cameras, regions);
    const before = new Map([...this.cameraSet].map((c) => [c, { streams: this.streams(c), topics: this.ownedTopics(c) }]));
    this.cameraSet = next;
    this.regions = regions;
    const changed: string[] = [];
    for (const [camera, old] of before) {
      const kept = next.has(camera) ? new Set(this.ownedTopics(camera)) : new Set<string>();
      if (!next.has(camera)) {
        this.statuses.delete(camera);
        this.recognitions.delete(camera);
      }
      const streams = next.has(camera) ? this.streams(camera) : [];
      for (const region of old.streams) if (!streams.includes(region)) this.states.delete(streamKey(camera, region));
      // If offline now, the stale-retained sweep on the next connect clears them.
      for (const topic of old.topics) if (!kept.has(topic)) this.deps.publish({ topic, payload: '' }, kindOfTopic(topic));
      if (next.has(camera) && streams.join('/') !== old.streams.join('/')) changed.push(camera);
    }
    const added = [...next].filter((c) => !before.has(c));
    for (const camera of [...added, ...changed]) {
      for (const region of this.streams(camera)) for (const label of this.deps.labelsOf(camera, region)) this.active(camera, region, label);
    }
    return [...added, ...changed];
  }

  /** The filters whose retained messages the sweep checks. */
  sweepFilters(): string[] {
    const t = this.deps.topics;
    return [
      t.retainedCameraFilter('status'), t.retainedCameraFilter('state'), t.retainedCameraFilter('recognition'), t.activeFilter,
      t.regionRetainedFilter('state'), t.regionRetainedFilter('active'),
    ];
  }

  /**
   * A retained message on one of our topics that no configured camera owns is left over from a
   * removed camera (or a previous config): clear it.
   */
  sweep(topic: string, payload: Buffer, retained: boolean): void {
    if (!retained || payload.length === 0 || this.isOwned(topic)) return;
    this.deps.log.info(`clearing stale retained topic ${topic}`);
    this.deps.publish({ topic, payload: '' }, kindOfTopic(topic));
  }

  private isOwned(topic: string): boolean {
    for (const camera of this.cameraSet) if (this.ownedTopics(camera).includes(topic)) return true;
    return false;
  }

  private ownedTopics(camera: string): string[] {
    const t = this.deps.topics;
    const streams = this.streams(camera).flatMap((region) => [t.state(camera, region), ...this.deps.labelsOf(camera, region).map((l) => t.active(camera, l, region))]);
    return [t.cameraStatus(camera), t.recognition(camera), ...streams, ...this.deps.extraTopics(camera)];
  }

  private valid(cameras: readonly string[], regions: CameraRegions): Set<string> {
    for (const camera of cameras) {
      this.deps.topics.cameraStatus(camera);
      for (const region of regions[camera] ?? []) this.deps.topics.state(camera, region);
    }
    return new Set(cameras);
  }
}
