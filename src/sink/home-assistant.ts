// Home Assistant MQTT discovery at run time: configs announced on every connect, when Home
// Assistant comes online (its birth message), when cameras are added, and when the labels change
// (a SIGHUP reload), so the `event` entity's event_types always list the labels that can fire.
import { discoveryConfigs, discoveryTopics, type RetainedMessage } from './discovery.js';
import type { PublishKind } from './metrics.js';
import type { SinkTopics } from './topics.js';

export interface HomeAssistantDeps {
  topics: SinkTopics;
  publish(message: RetainedMessage, kind: PublishKind): void;
  cameras(): Iterable<string>;
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
  private labels: string[];

  constructor(
    private readonly deps: HomeAssistantDeps,
    labels: DiscoveryLabels,
  ) {
    this.labels = eventTypes(labels);
  }

  /** Discovery config topics owned by one camera (cleared with the camera). */
  topicsOf(camera: string): string[] {
    return discoveryTopics(this.deps.topics, camera);
  }

  /** Filters to subscribe to: Home Assistant's birth message and our own configs (for the stale sweep). */
  filters(): string[] {
    const t = this.deps.topics;
    return [t.homeAssistantStatus, t.discoveryConfigFilter('event'), t.discoveryConfigFilter('sensor')];
  }

  announce(camera: string): void {
    for (const message of discoveryConfigs(this.deps.topics, camera, this.labels)) this.deps.publish(message, 'discovery');
  }

  announceAll(): void {
    for (const camera of this.deps.cameras()) this.announce(camera);
  }

  /** New reportable labels: every camera's configs are announced again if they changed. */
  updateLabels(set: DiscoveryLabels): void {
    const labels = eventTypes(set);
    if (labels.length === this.labels.length && labels.every((l, i) => l === this.labels[i])) return;
    this.labels = labels;
    this.deps.log.info(`labels changed: re-announcing Home Assistant discovery (${labels.length} event types)`);
    this.announceAll();
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
