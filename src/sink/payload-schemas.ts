// The MQTT API v1 payload schemas, the one source of docs/schemas/*.schema.json
// (`npm run schemas` writes them; a test fails when the committed files drift from these).
import { z } from 'zod';

const time = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
  .meta({ format: 'date-time', description: 'ISO 8601 UTC with milliseconds' });
const probability = z.number().min(0).max(1);
const camera = z.string().regex(/^[^/+#]+$/);
const region = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/)
  .nullable()
  .describe('The region of interest (cameras[].regions[].name) it is about, as in the topic; null for the whole camera (a camera without regions)');
const labelScore = z.strictObject({ label: z.string().min(1), score: probability });

const bridgeStatus = z.enum(['online', 'offline']).meta({
  title: 'Daemon status',
  description:
    'Payload of <base>/status (QoS 1, retained): the bare word online or offline as UTF-8 text (not JSON-quoted). offline is also the last will, published by the broker when the daemon vanishes.',
});

const cameraStatus = z
  .strictObject({
    state: z
      .enum(['connecting', 'streaming', 'stalled', 'offline'])
      .describe('connecting: opening the stream; streaming: frames arrive; stalled: no frame for the watchdog period; offline: the stream failed and waits to be retried'),
    since: time.describe('When this state was entered, ISO 8601 UTC with milliseconds'),
    reconnects: z.number().int().min(0).describe('Reconnects of this camera since the daemon started'),
    reason: z.string().optional().describe('Why the camera left streaming, when it did (never carries credentials)'),
  })
  .meta({ title: 'Camera status', description: 'Payload of <base>/<camera>/status (QoS 1, retained).' });

const eventFields = {
  v: z.literal(1).describe('API version'),
  id: z
    .string()
    .min(1)
    .describe(
      'One id (a UUID) per occurrence of an action, shared by its start, updates and end. A QoS 1 redelivery repeats a message exactly: (id, type, clip.last_frame_at) identifies one message',
    ),
  camera: camera.describe('Camera id, as in the topic'),
  region,
  label: z.string().min(1).describe('The action (a label name from the config)'),
  score: probability.describe('The label\'s smoothed score for the clip this event is about'),
  top_score: probability.describe('The highest score the label reached since the action started'),
  started_at: time,
  clip: z.strictObject({ first_frame_at: time, last_frame_at: time, frames: z.number().int().min(1) }),
  top: z.array(labelScore).describe('Best labels for the clip, best first'),
  model: z.strictObject({ name: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  snapshot: z
    .boolean()
    .describe(
      "Whether a JPEG of the occurrence's key frame was kept (the camera's snapshots.enabled): on <base>/<camera>/snapshot (retained) and, with the event history, at /api/events/<id>/snapshot.jpg",
    ),
};

const event = z
  .union([
    z.strictObject({ ...eventFields, type: z.enum(['start', 'update']), ended_at: z.null().describe('null until the end event') }),
    z.strictObject({ ...eventFields, type: z.literal('end'), ended_at: time.describe('When the action ended') }),
  ])
  .meta({
    title: 'Action event',
    description:
      'Payload of <base>/<camera>/events, or <base>/<camera>/regions/<region>/events for a region of interest (QoS 1, not retained). One occurrence of an action on one camera (or region) goes start, update..., end, all with the same id and started_at.',
  });

const scores = z
  .strictObject({
    v: z.literal(1),
    camera,
    region,
    clip: z.strictObject({
      seq: z.number().int().min(0).describe('Clip number per camera (or region), from 0 at start'),
      first_frame_at: time,
      last_frame_at: time,
      frames: z.number().int().min(1),
    }),
    top: z.array(labelScore).describe('The clip\'s softmax scores over the labels, best first'),
  })
  .meta({
    title: 'Per-clip scores',
    description: 'Payload of <base>/<camera>/scores or <base>/<camera>/regions/<region>/scores (QoS 0, not retained; off unless mqtt.publish_scores is true): every clip\'s best labels.',
  });

const state = z
  .strictObject({
    label: z.string().min(1).nullable().describe('The current action, or null when none is'),
    score: probability.describe('The current action\'s smoothed score; 0 when label is null'),
    since: time.describe('When this state began, ISO 8601 UTC with milliseconds'),
  })
  .meta({ title: 'Current action', description: 'Payload of <base>/<camera>/state, or <base>/<camera>/regions/<region>/state for a region of interest (QoS 1, retained): the action going on now.' });

const onOff = z.enum(['ON', 'OFF']);

const active = onOff.meta({
  title: 'Action active',
  description:
    'Payload of <base>/<camera>/active/<label>, or <base>/<camera>/regions/<region>/active/<label> for a region of interest (QoS 1, retained): the bare word ON while the label\'s action is going on on that camera (or region), OFF otherwise (OFF for every label at start). <label> is the label itself when it is one topic level, otherwise its Home Assistant-safe id. Home Assistant\'s binary sensors read it.',
});

const recognition = onOff.meta({
  title: 'Recognition switch',
  description:
    'Payload of <base>/<camera>/recognition (QoS 1, retained): ON while the camera\'s recognition runs, OFF while it is paused (the camera keeps streaming). The command is the same word published to <base>/<camera>/recognition/set (not retained; case and surrounding spaces do not matter); the switch is kept across restarts.',
});

const bridgeInfo = z
  .strictObject({
    v: z.literal(1).describe('API version'),
    version: z.string().min(1).describe('The msta-edge version'),
    model: z.strictObject({ name: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).describe('The model bundle recognising'),
    provider: z.string().min(1).describe('The onnxruntime execution provider in use: tensorrt, cuda or cpu'),
    cameras: z.array(camera).describe('The configured, enabled cameras'),
    regions: z
      .record(camera, z.array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/)).min(1))
      .describe('The regions of interest of each camera that has any (a camera with regions is recognised per region)'),
  })
  .meta({ title: 'Daemon info', description: 'Payload of <base>/info (QoS 1, retained): what is running. Published once the model is loaded, again when the cameras change.' });

/** Every payload schema by its file name (docs/schemas/<name>.schema.json). */
export const PAYLOAD_SCHEMAS = {
  active,
  'bridge-status': bridgeStatus,
  'bridge-info': bridgeInfo,
  'camera-status': cameraStatus,
  event,
  recognition,
  scores,
  state,
} as const;

/** The JSON Schema (draft-07) of one payload, as written to docs/schemas. */
export function payloadJsonSchema(name: keyof typeof PAYLOAD_SCHEMAS): Record<string, unknown> {
  const { $schema, title, description, ...rest } = z.toJSONSchema(PAYLOAD_SCHEMAS[name], { target: 'draft-7' }) as Record<string, unknown>;
  // Header first, for a readable file.
  return { $schema, $id: `urn:msta-edge:mqtt-api:v1:${name}`, title, description, ...rest };
}
