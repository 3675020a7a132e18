// Home Assistant MQTT discovery: per camera, one device with
// - a `switch` (recognition running or paused; its command topic is the daemon's command),
// - an `image` (the latest event's snapshot) where the camera's snapshots are enabled,
// and per stream (the whole camera, or each of its regions of interest):
// - an `event` entity (fires when an action starts),
// - an enum `sensor` (the current action, one of the labels or "none"),
// - a `binary_sensor` per reportable label (ON while that action goes on: what automations use).
// A region's object ids and names carry the region. All but the switch are unavailable unless the
// daemon is online AND the camera streams; the switch only needs the daemon. Configs are
// retained; an empty retained payload removes one.
import { discoveryId, type DiscoveryComponent, type SinkTopics } from './topics.js';

export interface RetainedMessage {
  topic: string;
  payload: string;
}

/** What the device and origin blocks say about this daemon. */
export interface DeviceInfo {
  /** The msta-edge version (device sw_version, origin sw_version). */
  version?: string;
  /** The daemon's HTTP console (device configuration_url, origin support_url). */
  configurationUrl?: string;
}

interface EntityIds {
  component: DiscoveryComponent;
  objectId: string;
}

/** The value the current-action sensor shows when no action is going on. */
export const NO_ACTION = 'none';

/** A camera's streams: the whole camera (null) or its regions. */
export type Streams = ReadonlyArray<string | null>;

/** A camera's reportable labels: the same on every stream, or each stream's own (a region's labels). */
export type StreamLabels = readonly string[] | ((region: string | null) => readonly string[]);

function labelsOn(labels: StreamLabels, region: string | null): readonly string[] {
  return typeof labels === 'function' ? labels(region) : labels;
}

/** A stream's object id prefix: the camera's, then the region's. */
function streamId(camera: string, region: string | null): string {
  return region === null ? discoveryId(camera) : `${discoveryId(camera)}_${discoveryId(region)}`;
}

function switchEntity(camera: string): EntityIds {
  return { component: 'switch', objectId: `${discoveryId(camera)}_recognition` };
}

function streamEntities(camera: string, region: string | null): Record<'event' | 'sensor', EntityIds> {
  const id = streamId(camera, region);
  return {
    event: { component: 'event', objectId: `${id}_action` },
    sensor: { component: 'sensor', objectId: `${id}_current_action` },
  };
}

function imageEntity(camera: string): EntityIds {
  return { component: 'image', objectId: `${discoveryId(camera)}_snapshot` };
}

/** The discovery config topic of a camera's snapshot image. */
export function imageDiscoveryTopic(topics: SinkTopics, camera: string): string {
  const e = imageEntity(camera);
  return topics.discoveryConfig(e.component, e.objectId);
}

function activeEntity(camera: string, region: string | null, label: string): EntityIds {
  return { component: 'binary_sensor', objectId: `${streamId(camera, region)}_${discoveryId(label)}_active` };
}

/** The discovery config topic of a label's binary sensor on one stream. */
export function activeDiscoveryTopic(topics: SinkTopics, camera: string, region: string | null, label: string): string {
  const e = activeEntity(camera, region, label);
  return topics.discoveryConfig(e.component, e.objectId);
}

/** The discovery config topics owned by one camera with these streams and labels (and its image, with snapshots). */
export function discoveryTopics(topics: SinkTopics, camera: string, labels: StreamLabels, streams: Streams = [null], snapshots = false): string[] {
  const s = switchEntity(camera);
  // In the order discoveryConfigs announces them.
  return [
    ...streams.flatMap((region) => Object.values(streamEntities(camera, region)).map((e) => topics.discoveryConfig(e.component, e.objectId))),
    topics.discoveryConfig(s.component, s.objectId),
    ...streams.flatMap((region) => labelsOn(labels, region).map((label) => activeDiscoveryTopic(topics, camera, region, label))),
    ...(snapshots ? [imageDiscoveryTopic(topics, camera)] : []),
  ];
}

// Only `start` events fire the HA event (an empty rendering is ignored by HA), so an automation
// on "action X began" runs once per action, not on every update.
export const EVENT_TEMPLATE =
  "{% if value_json.type == 'start' %}" +
  "{{ {'event_type': value_json.label, 'score': value_json.score, 'event_id': value_json.id, 'started_at': value_json.started_at} | to_json }}" +
  '{% endif %}';

export const CURRENT_ACTION_TEMPLATE = `{{ value_json.label if value_json.label is not none else '${NO_ACTION}' }}`;

export const CAMERA_AVAILABLE_TEMPLATE = "{{ 'online' if value_json.state == 'streaming' else 'offline' }}";

/** The enum sensor's options: every label, then the value for none. */
export function currentActionOptions(labels: readonly string[]): string[] {
  return [...new Set([...labels, NO_ACTION])];
}

/** The retained config messages that announce one camera's device and its streams' entities. */
export function discoveryConfigs(
  topics: SinkTopics,
  camera: string,
  labels: StreamLabels,
  info: DeviceInfo = {},
  streams: Streams = [null],
  snapshots = false,
): RetainedMessage[] {
  const device = {
    identifiers: [`msta-edge_${topics.nodeId}_${discoveryId(camera)}`],
    name: `msta-edge ${camera}`,
    manufacturer: 'msta-edge',
    model: 'MSTA action recognition',
    ...(info.version !== undefined ? { sw_version: info.version } : {}),
    ...(info.configurationUrl !== undefined ? { configuration_url: info.configurationUrl } : {}),
  };
  const origin = {
    name: 'msta-edge',
    ...(info.version !== undefined ? { sw_version: info.version } : {}),
    ...(info.configurationUrl !== undefined ? { support_url: info.configurationUrl } : {}),
  };
  const daemonOnline = { topic: topics.bridgeStatus };
  const common = {
    availability: [daemonOnline, { topic: topics.cameraStatus(camera), value_template: CAMERA_AVAILABLE_TEMPLATE }],
    availability_mode: 'all',
    device,
    origin,
    qos: 1,
  };
  const config = (ids: EntityIds, payload: Record<string, unknown>): RetainedMessage => ({
    topic: topics.discoveryConfig(ids.component, ids.objectId),
    payload: JSON.stringify({ ...payload, unique_id: `msta-edge_${topics.nodeId}_${ids.objectId}` }),
  });
  // A region's entities are named after it: "Door action", "Door current action", "Door: waving".
  const named = (region: string | null, name: string) => (region === null ? name : `${region} ${name.toLowerCase()}`);
  const streamConfigs = (region: string | null): RetainedMessage[] => {
    const e = streamEntities(camera, region);
    return [
      config(e.event, {
        name: named(region, 'Action'),
        state_topic: topics.events(camera, region),
        event_types: [...labelsOn(labels, region)],
        value_template: EVENT_TEMPLATE,
        icon: 'mdi:run-fast',
        ...common,
      }),
      config(e.sensor, {
        name: named(region, 'Current action'),
        state_topic: topics.state(camera, region),
        value_template: CURRENT_ACTION_TEMPLATE,
        device_class: 'enum',
        options: currentActionOptions(labelsOn(labels, region)),
        json_attributes_topic: topics.state(camera, region),
        icon: 'mdi:run',
        ...common,
      }),
    ];
  };
  const activeConfigs = (region: string | null): RetainedMessage[] =>
    labelsOn(labels, region).map((label) =>
        config(activeEntity(camera, region, label), {
          name: region === null ? label : `${region}: ${label}`,
          state_topic: topics.active(camera, label, region),
          payload_on: 'ON',
          payload_off: 'OFF',
          icon: 'mdi:motion-sensor',
          ...common,
        }),
    );
  return [
    ...streams.flatMap(streamConfigs),
    config(switchEntity(camera), {
      name: 'Recognition',
      state_topic: topics.recognition(camera),
      command_topic: topics.recognitionSet(camera),
      payload_on: 'ON',
      payload_off: 'OFF',
      icon: 'mdi:eye',
      ...common,
      // Recognition can be switched while the camera is down: only the daemon must be online.
      availability: [daemonOnline],
    }),
    ...streams.flatMap(activeConfigs),
    // The raw JPEG bytes on the topic (no image_encoding), of the whole camera; the last one stays
    // shown while the camera is down, so only the daemon must be online.
    ...(snapshots
      ? [config(imageEntity(camera), { name: 'Snapshot', image_topic: topics.snapshot(camera), content_type: 'image/jpeg', icon: 'mdi:camera', ...common, availability: [daemonOnline] })]
      : []),
  ];
}
