// The console wired to the rest: camera and system figures from the daemon's own state and metrics,
// playground phrases embedded with the bundle's text graph as a label would be (the set's template,
// the label-set rules), and scored as if added to the configured labels. Nothing here changes the
// config, the recognizers or the published events.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { registerConsoleMetrics } from '../console/console-metrics.js';
import { authGuard, consoleRoutes, type Routes } from '../console/console-routes.js';
import { ConsoleService } from '../console/console-service.js';
import type { CameraStats, SystemStats } from '../console/console-types.js';
import { readPageFiles } from '../console/page-files.js';
import type { ClipTokenizer } from '../model/clip-tokenizer.js';
import { embedPrompts } from '../model/prompt-embeddings.js';
import type { VideoModel } from '../model/video-model.js';
import { labelEmbeddings } from '../recognize/label-embedding.js';
import { labelScores } from '../recognize/label-scores.js';
import { buildLabelSet, inlineActions } from '../recognize/label-set.js';
import { topK } from '../recognize/top-k.js';
import { eventPayload } from '../sink/payloads.js';
import type { CameraStatus } from '../types.js';
import type { Recognizer } from './recognizer.js';
import { VERSION } from './version.js';

export interface ConsoleWiringDeps {
  config: () => Config;
  registry: Registry;
  log: Logger;
  cameraIds: () => string[];
  status: (camera: string) => CameraStatus | undefined;
  model: () => VideoModel | undefined;
  tokenizer: () => ClipTokenizer | undefined;
  /** A camera's (or its region's) recognizer (its own labels, or the global ones); the global one without a camera. */
  recognizer: (camera?: string, region?: string | null) => Recognizer | undefined;
  /** A camera's recognition settings (its own merged over the global ones); the global ones without a camera. */
  recognition: (camera?: string, region?: string | null) => Config['recognition'];
  mqtt: () => { connected: boolean; spooled: number } | undefined;
}

/** Sums of a counter's values per camera label (0 for a camera without any yet). */
async function perCamera(registry: Registry, name: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const metric = registry.getSingleMetric(name);
  if (!metric) return out;
  for (const v of (await metric.get()).values) {
    const camera = String(v.labels.camera ?? '');
    out.set(camera, (out.get(camera) ?? 0) + v.value);
  }
  return out;
}

/** Frames a second per camera from the frame counter, over the time since the previous call. */
function frameRates(): (frames: Map<string, number>, now: number) => Map<string, number> {
  let previous: { frames: Map<string, number>; at: number } | undefined;
  let rates = new Map<string, number>();
  return (frames, now) => {
    if (previous && now - previous.at >= 900) {
      const dt = (now - previous.at) / 1000;
      rates = new Map([...frames].map(([camera, n]) => [camera, Math.max(0, (n - (previous!.frames.get(camera) ?? 0)) / dt)]));
    }
    if (!previous || now - previous.at >= 900) previous = { frames, at: now };
    return rates;
  };
}

export function wireConsole(deps: ConsoleWiringDeps): { routes: Routes; service: ConsoleService | undefined; guarded: boolean } {
  const http = deps.config().http;
  const metrics = registerConsoleMetrics(deps.registry);
  const secrets = { ...(http.auth.token !== undefined ? { token: http.auth.token } : {}), ...(http.auth.credentials !== undefined ? { credentials: http.auth.credentials } : {}) };
  const guard = authGuard(secrets, metrics);
  const guarded = Object.keys(secrets).length > 0;
  if (!http.console.enabled) return { routes: guard, service: undefined, guarded };

  const rates = frameRates();
  // The configured labels with one phrase added, per recognizer (a reload makes a new one).
  const joint = new WeakMap<Recognizer, WeakMap<Float32Array, Float32Array>>();
  const jointEmbeds = (r: Recognizer, phrase: Float32Array): Float32Array => {
    let byPhrase = joint.get(r);
    if (!byPhrase) joint.set(r, (byPhrase = new WeakMap()));
    let m = byPhrase.get(phrase);
    if (!m) {
      m = new Float32Array(r.embeds.length + phrase.length);
      m.set(r.embeds);
      m.set(phrase, r.embeds.length);
      byPhrase.set(phrase, m);
    }
    return m;
  };

  const service = new ConsoleService({
    options: http.console,
    metrics,
    log: deps.log,
    async cameras(): Promise<CameraStats[]> {
      const [frames, framesDropped, clipsDropped] = await Promise.all(
        ['msta_source_frames_total', 'msta_source_frames_dropped_total', 'msta_clips_dropped_total'].map((n) => perCamera(deps.registry, n)),
      );
      const fps = rates(frames!, Date.now());
      return deps.cameraIds().map((id) => {
        const s = deps.status(id);
        return {
          id,
          state: s?.state ?? 'connecting',
          since: s ? new Date(s.since).toISOString() : null,
          ...(s?.reason !== undefined ? { reason: s.reason } : {}),
          reconnects: s?.reconnects ?? 0,
          fps: Number((fps.get(id) ?? 0).toFixed(1)),
          frames_dropped: framesDropped!.get(id) ?? 0,
          clips_dropped: clipsDropped!.get(id) ?? 0,
        };
      });
    },
    system(): SystemStats {
      const model = deps.model();
      const mqtt = deps.mqtt();
      return {
        model: model?.bundle.manifest.name ?? 'loading',
        provider: model?.provider ?? 'loading',
        version: VERSION,
        mqtt_connected: mqtt?.connected ?? false,
        spool_messages: mqtt?.spooled ?? 0,
      };
    },
    playground(camera) {
      const r = deps.recognizer(camera);
      if (!r) return undefined;
      const rec = deps.recognition(camera);
      return {
        labels: r.names,
        template: r.set.template,
        recognition: { start: rec.start, end: rec.end, min_clips: rec.min_clips, smoothing: rec.smoothing },
        max_phrases: http.console.max_phrases,
        max_phrase_chars: http.console.max_phrase_chars,
      };
    },
    topK(camera, region, embedding) {
      const r = deps.recognizer(camera, region)!;
      return topK(r.names, labelScores(embedding, r.embeds, deps.model()!.bundle.manifest.logit_scale), deps.recognition(camera, region).top_k);
    },
    scorePhrase(camera, region, embedding, phrase) {
      const r = deps.recognizer(camera, region)!;
      const scores = labelScores(embedding, jointEmbeds(r, phrase), deps.model()!.bundle.manifest.logit_scale);
      return scores[scores.length - 1]!;
    },
    eventMessage: (event) => eventPayload(event),
    embedPhrase(camera) {
      const model = deps.model();
      const tokenizer = deps.tokenizer();
      const r = deps.recognizer(camera);
      if (!model || !tokenizer || !r) return undefined;
      const m = model.bundle.manifest;
      const embed = async (phrase: string): Promise<Float32Array> => {
        // As a label of that name would be: the set's template, the label rules, its prompt(s) averaged.
        const set = buildLabelSet(r.set.template, inlineActions([phrase], 'playground phrase'));
        const { embeddings } = await embedPrompts(set.labels[0]!.prompts, {
          tokenize: (text) => tokenizer.inputIds(text, m.context_length),
          contextLength: m.context_length,
          embedDim: m.embed_dim,
          embedTokens: (ids, rows) => model.embedTokens(ids, rows),
          bundleSha256: model.bundle.sha256,
        });
        return labelEmbeddings(set, embeddings, m.embed_dim);
      };
      // Kept per model and template: a swapped model, or a camera's own template, embeds anew.
      return { key: `${model.bundle.sha256}\n${r.set.template}`, embed };
    },
  });
  const routes = consoleRoutes({ service, files: readPageFiles(), cameraIds: deps.cameraIds, maxPhrases: http.console.max_phrases });
  return { routes: (req, res, url) => guard(req, res, url) || routes(req, res, url), service, guarded };
}
