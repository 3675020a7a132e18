// Every MQTT topic the sink publishes or subscribes to is built here, so the API (docs/mqtt.md,
// docs/asyncapi.yaml) has one source of truth.
import { createHash } from 'node:crypto';
import { MstaError } from '../errors.js';

export type DiscoveryComponent = 'event' | 'sensor' | 'binary_sensor' | 'switch' | 'image';

/** The retained per-camera leaves the stale sweep checks. */
export type RetainedCameraLeaf = 'status' | 'state' | 'recognition' | 'snapshot';

export interface SinkTopics {
  /** `<base>/status`: retained `online` / `offline` (the last will). */
  readonly bridgeStatus: string;
  /** `<base>/info`: retained, what is running (version, model, provider, cameras). */
  readonly bridgeInfo: string;
  cameraStatus(camera: string): string;
  /**
   * A stream's leaves: `<base>/<camera>/<leaf>` for the whole camera (region null or absent),
   * `<base>/<camera>/regions/<region>/<leaf>` for one of its regions of interest.
   */
  events(camera: string, region?: string | null): string;
  state(camera: string, region?: string | null): string;
  scores(camera: string, region?: string | null): string;
  /** `<base>/<camera>/snapshot`: retained, the binary JPEG of the latest event's key frame (snapshots enabled). */
  snapshot(camera: string): string;
  /** `<stream>/active/<label>`: retained `ON` while the label's action is going on, `OFF` otherwise. */
  active(camera: string, label: string, region?: string | null): string;
  /** Filter matching every camera's active topics: `<base>/+/active/+`. */
  readonly activeFilter: string;
  /** Filter matching a retained per-region leaf of every region: `<base>/+/regions/+/state`, `<base>/+/regions/+/active/+`. */
  regionRetainedFilter(leaf: 'state' | 'active'): string;
  /** `<base>/<camera>/recognition`: retained `ON` / `OFF`, whether the camera's recognition runs. */
  recognition(camera: string): string;
  /** `<base>/<camera>/recognition/set`: the command topic (`ON` / `OFF`). */
  recognitionSet(camera: string): string;
  /** Filter matching every camera's recognition command: `<base>/+/recognition/set`. */
  readonly recognitionSetFilter: string;
  /** The camera a `<base>/<camera>/recognition/set` topic names, or undefined for any other topic. */
  recognitionSetCamera(topic: string): string | undefined;
  /** Filter matching a retained per-camera topic of every camera: `<base>/+/status`, `<base>/+/state`, ... */
  retainedCameraFilter(leaf: RetainedCameraLeaf): string;
  /** Home Assistant's own birth / last-will topic, `<prefix>/status`. */
  readonly homeAssistantStatus: string;
  /** `<prefix>/<component>/<node id>/<object id>/config`. */
  discoveryConfig(component: DiscoveryComponent, objectId: string): string;
  /** Filter matching every discovery config this daemon may have published for a component. */
  discoveryConfigFilter(component: DiscoveryComponent): string;
  /** The Home Assistant node id: the base topic made safe for discovery topics. */
  readonly nodeId: string;
}

/** Throws unless `level` is one non-empty topic level without wildcards or separators. */
export function assertTopicLevel(level: string, what: string): void {
  const bad = level === '' ? 'is empty' : /[+#/]/.test(level) || level.includes('\0') ? 'contains one of + # / or NUL' : undefined;
  if (bad !== undefined) {
    throw new MstaError('MQTT_TOPIC_INVALID', `${what} "${level}" ${bad}; it must be a single MQTT topic level`, {
      where: what,
    });
  }
}

/** Throws unless `topic` is a publishable topic name: non-empty levels, no wildcards. */
export function assertTopicName(topic: string, what: string): void {
  if (topic.startsWith('/') || topic.endsWith('/')) {
    throw new MstaError('MQTT_TOPIC_INVALID', `${what} "${topic}" starts or ends with "/"`, { where: what });
  }
  for (const level of topic.split('/')) assertTopicLevel(level, what);
}

const DISCOVERY_ID = /^[A-Za-z0-9_-]+$/;

/**
 * Home Assistant accepts only [A-Za-z0-9_-] in discovery node and object ids. Other characters
 * become "_", plus a short hash of the original so that "a.b" and "a_b" stay distinct.
 */
export function discoveryId(text: string): string {
  if (DISCOVERY_ID.test(text)) return text;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
  return `${text.replace(/[^A-Za-z0-9_-]/g, '_')}_${hash}`;
}

/**
 * A label as one topic level: itself when it is one already (spaces are fine in MQTT topics),
 * otherwise its discovery id (a "/", "+" or "#" in it would split or match levels).
 */
export function labelLevel(label: string): string {
  return label !== '' && !/[+#/\0]/.test(label) ? label : discoveryId(label);
}

export function sinkTopics(baseTopic = 'msta', discoveryPrefix = 'homeassistant'): SinkTopics {
  assertTopicName(baseTopic, 'mqtt.base_topic');
  assertTopicName(discoveryPrefix, 'mqtt.homeassistant.prefix');
  const nodeId = discoveryId(baseTopic);
  const camera = (id: string, leaf: string): string => {
    assertTopicLevel(id, 'camera id');
    return `${baseTopic}/${id}/${leaf}`;
  };
  const stream = (id: string, region: string | null | undefined, leaf: string): string => {
    if (region === null || region === undefined) return camera(id, leaf);
    assertTopicLevel(region, 'region name');
    return camera(id, `regions/${region}/${leaf}`);
  };
  return {
    bridgeStatus: `${baseTopic}/status`,
    bridgeInfo: `${baseTopic}/info`,
    cameraStatus: (id) => camera(id, 'status'),
    events: (id, region) => stream(id, region, 'events'),
    state: (id, region) => stream(id, region, 'state'),
    scores: (id, region) => stream(id, region, 'scores'),
    snapshot: (id) => stream(id, null, 'snapshot'),
    active: (id, label, region) => stream(id, region, `active/${labelLevel(label)}`),
    activeFilter: `${baseTopic}/+/active/+`,
    regionRetainedFilter: (leaf) => `${baseTopic}/+/regions/+/${leaf === 'active' ? 'active/+' : leaf}`,
    recognition: (id) => camera(id, 'recognition'),
    recognitionSet: (id) => camera(id, 'recognition/set'),
    recognitionSetFilter: `${baseTopic}/+/recognition/set`,
    recognitionSetCamera: (topic) => {
      const prefix = `${baseTopic}/`;
      const suffix = '/recognition/set';
      if (!topic.startsWith(prefix) || !topic.endsWith(suffix)) return undefined;
      const id = topic.slice(prefix.length, topic.length - suffix.length);
      return id !== '' && !id.includes('/') ? id : undefined;
    },
    retainedCameraFilter: (leaf) => `${baseTopic}/+/${leaf}`,
    homeAssistantStatus: `${discoveryPrefix}/status`,
    discoveryConfig: (component, objectId) => {
      assertTopicLevel(objectId, 'discovery object id');
      return `${discoveryPrefix}/${component}/${nodeId}/${objectId}/config`;
    },
    discoveryConfigFilter: (component) => `${discoveryPrefix}/${component}/${nodeId}/+/config`,
    nodeId,
  };
}
