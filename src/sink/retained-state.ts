// Retained per-camera state: the latest status, action state, per-label ON/OFF and recognition
// switch of each configured camera, republished on every (re)connect (a
// broker restarted without persistence forgets retained messages), and the sweep that clears
// retained topics no configured camera (or label) owns any more.
import type { CameraStatus } from '../types.js';
import type { RetainedMessage } from './discovery.js';
import type { PublishKind } from './metrics.js';
import { actionStatePayload, cameraStatusPayload, type ActionState } from './payloads.js';
import type { SinkTopics } from './topics.js';

export interface RetainedStateDeps {
  topics: SinkTopics;
  /** Publishes retained while connected (else the value waits for the next connect). */
  publish(message: RetainedMessage, kind: PublishKind): void;
  /** Further topics a camera owns (its discovery configs), cleared with it. */
  extraTopics(camera: string): string[];
  /** A camera's reportable labels: one active topic each. */
  labelsOf(camera: string): readonly string[];
  log: { info(msg: string): void };
}

export function kindOfTopic(topic: string): PublishKind {
  if (topic.endsWith('/config')) return 'discovery';
  if (topic.endsWith('/snapshot')) return 'snapshot';
  return topic.endsWith('/status') ? 'status' : 'state';
}

const onOff = (on: boolean): string => (on ? 'ON' : 'OFF');

export class RetainedState {
  private cameraSet: Set<string>;
  private readonly statuses = new Map<string, CameraStatus>();
  private readonly states = new Map<string, ActionState>();
  private readonly recognitions = new Map<string, boolean>();
  constructor(
    private readonly deps: RetainedStateDeps,
    cameras: readonly string[],
  ) {
    this.cameraSet = this.valid(cameras);
  }

  get cameras(): ReadonlySet<string> {
    return this.cameraSet;
  }

  status(status: CameraStatus): void {
    const topic = this.deps.topics.cameraStatus(status.camera);
    this.statuses.set(status.camera, status);
    this.deps.publish({ topic, payload: JSON.stringify(cameraStatusPayload(status)) }, 'status');
  }

  /** The state, and the ON/OFF of the labels it turns on or off (all of them when `all`). */
  state(state: ActionState, all = false): void {
    const topic = this.deps.topics.state(state.camera);
    const before = this.states.get(state.camera)?.label ?? null;
    this.states.set(state.camera, state);
    this.deps.publish({ topic, payload: JSON.stringify(actionStatePayload(state)) }, 'state');
    for (const label of this.deps.labelsOf(state.camera)) {
      if (all || label === before || label === state.label) this.active(state.camera, label);
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
      const state = this.states.get(camera);
      if (state) this.state(state, true);
      else for (const label of this.deps.labelsOf(camera)) this.active(camera, label);
    }
  }

  /** A camera's new reportable labels (labelsOf says them now): the active topics of labels that went are cleared, new ones published. */
  relabel(camera: string, before: readonly string[]): void {
    if (!this.cameraSet.has(camera)) return;
    const labels = this.deps.labelsOf(camera);
    for (const label of before) if (!labels.includes(label)) this.deps.publish({ topic: this.deps.topics.active(camera, label), payload: '' }, 'state');
    for (const label of labels) if (!before.includes(label)) this.active(camera, label);
  }

  private active(camera: string, label: string): void {
    const on = this.states.get(camera)?.label === label;
    this.deps.publish({ topic: this.deps.topics.active(camera, label), payload: onOff(on) }, 'state');
  }

  /** Replaces the camera list; returns the cameras added (removed ones are cleared here). */
  setCameras(cameras: readonly string[]): string[] {
    const next = this.valid(cameras);
    const removed = [...this.cameraSet].filter((c) => !next.has(c));
    const added = [...next].filter((c) => !this.cameraSet.has(c));
    this.cameraSet = next;
    for (const camera of removed) {
      this.statuses.delete(camera);
      this.states.delete(camera);
      this.recognitions.delete(camera);
      // If offline now, the stale-retained sweep on the next connect clears them.
      for (const topic of this.ownedTopics(camera)) this.deps.publish({ topic, payload: '' }, kindOfTopic(topic));
    }
    for (const camera of added) for (const label of this.deps.labelsOf(camera)) this.active(camera, label);
    return added;
  }

  /** The filters whose retained messages the sweep checks. */
  sweepFilters(): string[] {
    const t = this.deps.topics;
    return [t.retainedCameraFilter('status'), t.retainedCameraFilter('state'), t.retainedCameraFilter('recognition'), t.activeFilter];
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
    return [t.cameraStatus(camera), t.state(camera), t.recognition(camera), ...this.deps.labelsOf(camera).map((l) => t.active(camera, l)), ...this.deps.extraTopics(camera)];
  }

  private valid(cameras: readonly string[]): Set<string> {
    for (const camera of cameras) this.deps.topics.cameraStatus(camera);
    return new Set(cameras);
  }
}
