// What the console shows, as the daemon hands it over and the live feed sends it (JSON, snake_case
// like the rest of the API).
import type { ActionEvent, CameraState, LabelScore } from '../types.js';

export interface CameraStats {
  id: string;
  state: CameraState;
  /** ISO 8601 UTC: when it entered the state. */
  since: string | null;
  reason?: string;
  reconnects: number;
  /** Frames a second from the camera over the last seconds. */
  fps: number;
  frames_dropped: number;
  clips_dropped: number;
}

export interface SystemStats {
  model: string;
  provider: string;
  version: string;
  mqtt_connected: boolean;
  spool_messages: number;
}

export interface CameraCard extends CameraStats {
  provider: string;
  /** The active action and its latest score; null when idle. */
  action: { label: string; score: number; since: string; region: string | null } | null;
}

export interface ConsoleState {
  cameras: CameraCard[];
  system: SystemStats & { clips_dropped: number; inference_ms: { p50: number; p99: number; clips: number } | null };
}

/** What the playground needs to show where start and end would fire. */
export interface PlaygroundConfig {
  labels: string[];
  template: string;
  recognition: { start: number; end: number; min_clips: number; smoothing: number };
  max_phrases: number;
  max_phrase_chars: number;
}

export interface ClipMessage {
  camera: string;
  /** The camera's region the clip was cut from; null for the whole camera. */
  region: string | null;
  /** Epoch ms of the clip's last frame. */
  at: number;
  top: LabelScore[];
  /** This client's playground phrases, scored as if each were added to the labels. */
  phrases?: { phrase: string; score: number }[];
}

export type { ActionEvent };
