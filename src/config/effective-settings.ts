// The settings a camera (and a region of it) runs with: its own labels and recognition merged over
// the global ones, Frigate's global-then-camera convention.
// - recognition: key by key, motion_gate key by key too: a camera that sets only `start` keeps the
//   global `end`, stride, ... (the merge is validated with the global checks, end <= start).
// - labels: the label list (files and actions together) is replaced whole when the camera names
//   either: nothing is appended, and a camera listing only `files` does not keep the global inline
//   actions; template and background replace the global ones key by key; cache_dir is global only.
// A region's own block merges over its camera's merged settings by the same rules.
import type { LabelsConfig, LabelsOverride, RecognitionConfig, RecognitionOverride } from './schema.js';

export interface Settings {
  labels: LabelsConfig;
  recognition: RecognitionConfig;
}

/** What a camera or region may say of its own; each part absent = the level above's. */
export interface SettingsOverride {
  labels?: LabelsOverride | undefined;
  recognition?: RecognitionOverride | undefined;
}

function mergeRecognition(base: RecognitionConfig, over: RecognitionOverride | undefined): RecognitionConfig {
  if (over === undefined) return base;
  return { ...base, ...over, motion_gate: { ...base.motion_gate, ...over.motion_gate } };
}

function mergeLabels(base: LabelsConfig, over: LabelsOverride | undefined): LabelsConfig {
  if (over === undefined) return base;
  const list = over.files !== undefined || over.actions !== undefined ? { files: over.files ?? [], actions: over.actions ?? [] } : {};
  return { ...base, ...over, ...list };
}

/** The global settings, then the camera's, then the region's (when given) over them. Pure. */
export function effectiveSettings(global: Settings, camera: SettingsOverride, region?: SettingsOverride): Settings {
  const levels = region === undefined ? [camera] : [camera, region];
  return levels.reduce<Settings>(
    (acc, o) => ({ labels: mergeLabels(acc.labels, o.labels), recognition: mergeRecognition(acc.recognition, o.recognition) }),
    { labels: global.labels, recognition: global.recognition },
  );
}

/** Whether a camera (or region) names labels of its own, so label problems are reported at its path. */
export function hasOwnLabels(o: SettingsOverride): boolean {
  return o.labels !== undefined && Object.keys(o.labels).length > 0;
}
