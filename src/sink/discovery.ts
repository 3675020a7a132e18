// Home Assistant MQTT discovery: per camera, one device with an `event` entity (fires when an
// action starts) and a `sensor` (the current action), both unavailable unless the daemon is
// online AND the camera is streaming. Configs are retained; an empty retained payload removes one.
import { discoveryId, type DiscoveryComponent, type SinkTopics } from './topics.js';

export interface RetainedMessage {
  topic: string;
  payload: string;
}

interface EntityIds {
  component: DiscoveryComponent;
  objectId: string;
}

function entities(camera: string): EntityIds[] {
  const id = discoveryId(camera);
  return [
    { component: 'event', objectId: `${id}_action` },
    { component: 'sensor', objectId: `${id}_current_action` },
  ];
}

/** The discovery config topics owned by one camera. */
export function discoveryTopics(topics: SinkTopics, camera: string): string[] {
  return entities(camera).map((e) => topics.discoveryConfig(e.component, e.objectId));
}

// Only `start` events fire the HA event (an empty rendering is ignored by HA), so an automation
// on "action X began" runs once per action, not on every update.
const EVENT_TEMPLATE =
  "{% if value_json.type == 'start' %}" +
  "{{ {'event_type': value_json.label, 'score': value_json.score, 'event_id': value_json.id, 'started_at': value_json.started_at} | to_json }}" +
  '{% endif %}';

const CURRENT_ACTION_TEMPLATE = "{{ value_json.label if value_json.label is not none else 'none' }}";

const CAMERA_AVAILABLE_TEMPLATE = "{{ 'online' if value_json.state == 'streaming' else 'offline' }}";

/** The retained config messages that announce one camera's device and entities. */
export function discoveryConfigs(topics: SinkTopics, camera: string, labels: readonly string[]): RetainedMessage[] {
  const device = {
    identifiers: [`msta-edge_${topics.nodeId}_${discoveryId(camera)}`],
    name: `msta-edge ${camera}`,
    manufacturer: 'msta-edge',
    model: 'MSTA action recognition',
  };
  const common = {
    availability: [
      { topic: topics.bridgeStatus },
      { topic: topics.cameraStatus(camera), value_template: CAMERA_AVAILABLE_TEMPLATE },
    ],
    availability_mode: 'all',
    device,
    origin: { name: 'msta-edge' },
    qos: 1,
  };
  const [event, sensor] = entities(camera) as [EntityIds, EntityIds];
  return [
    {
      topic: topics.discoveryConfig(event.component, event.objectId),
      payload: JSON.stringify({
        name: 'Action',
        unique_id: `msta-edge_${topics.nodeId}_${event.objectId}`,
        state_topic: topics.events(camera),
        event_types: [...labels],
        value_template: EVENT_TEMPLATE,
        icon: 'mdi:run-fast',
        ...common,
      }),
    },
    {
      topic: topics.discoveryConfig(sensor.component, sensor.objectId),
      payload: JSON.stringify({
        name: 'Current action',
        unique_id: `msta-edge_${topics.nodeId}_${sensor.objectId}`,
        state_topic: topics.state(camera),
        value_template: CURRENT_ACTION_TEMPLATE,
        json_attributes_topic: topics.state(camera),
        icon: 'mdi:run',
        ...common,
      }),
    },
  ];
}
