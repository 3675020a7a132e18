// Retained per-camera state: the latest status and action state of each configured camera,
// republished on every (re)connect (a broker restarted without persistence forgets retained
// messages), and the sweep that clears retained topics no configured camera owns any more.
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
  log: { info(msg: string): void };
}

export function kindOfTopic(topic: string): PublishKind {
  if (topic.endsWith('/config')) return 'discovery';
  return topic.endsWith('/state') ? 'state' : 'status';
}

export class RetainedState {
  private cameraSet: Set<string>;
  private readonly statuses = new Map<string, CameraStatus>();
  private readonly states = new Map<string, ActionState>();

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

  state(state: ActionState): void {
    const topic = this.deps.topics.state(state.camera);
    this.states.set(state.camera, state);
    this.deps.publish({ topic, payload: JSON.stringify(actionStatePayload(state)) }, 'state');
  }

  /** Republishes every known value (on connect). */
  republish(): void {
    for (const status of this.statuses.values()) this.status(status);
    for (const state of this.states.values()) this.state(state);
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
      // If offline now, the stale-retained sweep on the next connect clears them.
      for (const topic of this.ownedTopics(camera)) this.deps.publish({ topic, payload: '' }, kindOfTopic(topic));
    }
    return added;
  }

  /** The filters whose retained messages the sweep checks. */
  sweepFilters(): string[] {
    return [this.deps.topics.retainedCameraFilter('status'), this.deps.topics.retainedCameraFilter('state')];
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
    return [this.deps.topics.cameraStatus(camera), this.deps.topics.state(camera), ...this.deps.extraTopics(camera)];
  }

  private valid(cameras: readonly string[]): Set<string> {
    for (const camera of cameras) this.deps.topics.cameraStatus(camera);
    return new Set(cameras);
  }
}
