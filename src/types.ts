// Data that crosses stage boundaries. Stages import only this module, errors.ts and their own
// folder; src/daemon/ alone wires stages together (test/boundaries.test.ts enforces it).

/** One decoded RGB frame of a camera or one of its regions, already cropped and scaled to the model's size. */
export interface Frame {
  camera: string;
  /** The region of interest it shows; null for the whole camera. */
  region: string | null;
  /** Sequence number per camera stream (the camera, or a region), from 0, counting every frame it produced. */
  seq: number;
  /** Capture time, epoch milliseconds (arrival time in the source child; GStreamer gives none). */
  capturedAt: number;
  width: number;
  height: number;
  /** height x width x 3 bytes, RGB, row-major. */
  data: Uint8Array;
}

/** A JPEG of a camera's whole frame, encoded in the source's pipeline (snapshots). */
export interface Snapshot {
  camera: string;
  /** Capture time, epoch ms, on the same clock as the frames'. */
  capturedAt: number;
  width: number;
  height: number;
  /** A JPEG file (baseline, as GStreamer's jpegenc writes it). */
  jpeg: Buffer;
}

export type CameraState = 'connecting' | 'streaming' | 'stalled' | 'offline';

/**
 * Where a camera's recognition stands: no clip inferred yet (idle), its last clip inferred
 * (recognizing), its last clip failed (failing), or its source not streaming (paused).
 */
export const RECOGNITION_STATES = ['idle', 'recognizing', 'failing', 'paused'] as const;
export type RecognitionState = (typeof RECOGNITION_STATES)[number];

export interface CameraStatus {
  camera: string;
  state: CameraState;
  /** Epoch ms when this state was entered. */
  since: number;
  reconnects: number;
  /** Why the camera left `streaming` (secret-free), if it did. */
  reason?: string;
}

/** A sliding-window clip: T frames in one contiguous uint8 [T,H,W,3] buffer. */
export interface Clip {
  camera: string;
  /** The region of interest its frames show; null for the whole camera. */
  region: string | null;
  /** Clip sequence number per camera stream (the camera, or one of its regions), from 0. */
  seq: number;
  frames: number;
  height: number;
  width: number;
  /** frames * height * width * 3 bytes; owned by the receiver (may be transferred to a worker). */
  data: Uint8Array;
  firstFrameAt: number;
  lastFrameAt: number;
}

/**
 * A camera's stream of clips (the camera, or one of its regions) as one key: scheduler slots,
 * coverage and logs. Camera ids and region names never hold "/".
 */
export function streamKey(camera: string, region: string | null): string {
  return region === null ? camera : `${camera}/${region}`;
}

/** Why something was dropped; used as a metrics label. */
export type DropReason = 'replaced' | 'overflow' | 'size_mismatch' | 'stale' | 'model_swapped';

export interface LabelScore {
  label: string;
  score: number;
}

/** A clip's video embedding, as returned by the model stage. */
export interface ClipEmbedding {
  clip: Omit<Clip, 'data'>;
  embedding: Float32Array;
  provider: string;
  inferenceSeconds: number;
}

export type ActionEventType = 'start' | 'update' | 'end';

/**
 * An action event as recognition emits it (a domain event; times are epoch ms). The sink turns it
 * into the MQTT API v1 payload (src/sink/payloads.ts), the event store into a row.
 */
export interface ActionEvent {
  /** One per occurrence of an action, shared by its start, updates and end. */
  id: string;
  type: ActionEventType;
  camera: string;
  /** The region of interest it was seen in; null for the whole camera. */
  region: string | null;
  label: string;
  /** The label's smoothed score on the event's clip. */
  score: number;
  /** The highest smoothed score the occurrence has reached so far. */
  topScore: number;
  startedAt: number;
  /** null until the end. */
  endedAt: number | null;
  clip: {
    firstFrameAt: number;
    lastFrameAt: number;
    frames: number;
    /** Seconds its batch's inference took (ClipEmbedding.inferenceSeconds): the daemon's latency metrics take it out of the rest. */
    inferenceSeconds: number;
  };
  /** Best first. */
  top: LabelScore[];
  model: { name: string; sha256: string };
  /** Whether a JPEG of the occurrence's key frame was kept (snapshots enabled and one was at hand). */
  snapshot: boolean;
}

/**
 * One occurrence of an action as the event history keeps it: its start, updates and end folded
 * into one record. Times are epoch milliseconds.
 */
export interface StoredEvent {
  id: string;
  camera: string;
  /** The region of the camera's frame it was seen in; null for the whole camera. */
  region: string | null;
  label: string;
  startedAt: number;
  /** null while the action lasts. */
  endedAt: number | null;
  /** The highest smoothed score the occurrence reached. */
  peakScore: number;
  /** The top-k scores of its best-scoring event. */
  top: LabelScore[];
  model: { name: string; sha256: string };
  snapshot: { path: string; bytes: number } | null;
}

/** A query on the event history: newest first. */
export interface EventFilter {
  camera?: string;
  /** The region the events were seen in. */
  region?: string;
  label?: string;
  /** Started at or after (epoch ms). */
  since?: number;
  /** Started before (epoch ms): the next page after the oldest one seen. */
  before?: number;
  limit: number;
}

/** What reads the event history (the HTTP API) needs of it. */
export interface EventHistory {
  query(filter: EventFilter): StoredEvent[];
  get(id: string): StoredEvent | undefined;
}

/** A command received over MQTT, as the daemon acts on it. */
export interface RecognitionCommand {
  type: 'recognition';
  camera: string;
  /** true: recognise (`ON`); false: pause recognition, the camera keeps streaming (`OFF`). */
  enabled: boolean;
}
