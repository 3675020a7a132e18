// Every camera's (and region's) recognizer from one prepared config: label sets equal in content (however the
// configs spell them) are embedded once and shared, and a recognizer of the same model whose set is
// unchanged is kept rather than built again (a reload that touched other cameras).
import type { Logger } from 'pino';
import type { ClipTokenizer } from '../model/clip-tokenizer.js';
import type { VideoModel } from '../model/video-model.js';
import type { LabelSet } from '../recognize/label-set.js';
import { buildRecognizer, labelSetKey, type Recognizer } from './recognizer.js';

export interface CameraRecognizers {
  /** The global labels' recognizer (cameras without labels of their own; the console's default). */
  global: Recognizer;
  /** By camera id. */
  byCamera: Map<string, Recognizer>;
  /** By stream key (camera/region): each region's, its camera's where it names no labels. */
  byRegion: Map<string, Recognizer>;
  /** The model they were embedded with. */
  model: VideoModel;
}

export async function buildCameraRecognizers(
  sets: { labelSet: LabelSet; cameraLabelSets: ReadonlyMap<string, LabelSet>; regionLabelSets: ReadonlyMap<string, LabelSet> },
  cacheDir: string,
  model: VideoModel,
  tokenizer: ClipTokenizer,
  log: Logger,
  previous?: CameraRecognizers,
): Promise<CameraRecognizers> {
  const built = new Map<string, Promise<Recognizer>>();
  if (previous && previous.model === model) {
    for (const r of [previous.global, ...previous.byCamera.values(), ...previous.byRegion.values()]) built.set(labelSetKey(r.set), Promise.resolve(r));
  }
  // One at a time: the text model is shared with the cameras' inference.
  const get = async (set: LabelSet): Promise<Recognizer> => {
    const key = labelSetKey(set);
    let r = built.get(key);
    if (!r) built.set(key, (r = buildRecognizer(set, cacheDir, model, tokenizer, log)));
    return r;
  };
  const global = await get(sets.labelSet);
  const byCamera = new Map<string, Recognizer>();
  for (const [camera, set] of sets.cameraLabelSets) byCamera.set(camera, await get(set));
  const byRegion = new Map<string, Recognizer>();
  for (const [stream, set] of sets.regionLabelSets) byRegion.set(stream, await get(set));
  return { global, byCamera, byRegion, model };
}
