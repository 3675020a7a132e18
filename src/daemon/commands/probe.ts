// `msta-edge probe`: the real pipeline (source -> clip -> model -> scores) on one or more inputs,
// one JSON line per clip on stdout: the command a user runs to try labels on a camera.
import { Registry } from 'prom-client';
import { registerClipMetrics } from '../../clip/clip-metrics.js';
import { configSchema } from '../../config/schema.js';
import { MstaError } from '../../errors.js';
import { ClipTokenizer } from '../../model/clip-tokenizer.js';
import { loadClipVocab } from '../../model/clip-vocab.js';
import { bundleFrameIntervalMs } from '../../model/bundle-manifest.js';
import { readBundle } from '../../model/read-bundle.js';
import { openVideoModel } from '../../model/video-model.js';
import { topK } from '../../recognize/top-k.js';
import { redactUrl } from '../../redact.js';
import { isoTime } from '../../sink/payloads.js';
import { cameraSource } from '../../source/camera-source.js';
import { CameraRunner } from '../camera-runner.js';
import { DEMO_BUNDLE } from '../defaults.js';
import { createLogger } from '../logger.js';
import { modelOptions } from '../model-options.js';
import { clipScheduler } from '../recognition-control.js';
import { buildRecognizer, configuredLabelSet } from '../recognizer.js';
import { parseCommandArgs, type Command, type OptionTable } from './command.js';

const OPTIONS = {
  bundle: { type: 'string', value: 'DIR', help: 'model bundle directory (default: the test bundle that ships with msta-edge)' },
  input: { type: 'string', multiple: true, value: 'URL_OR_FILE', help: 'a camera URL or video file (required)' },
  labels: { type: 'string', value: 'A,B,...', help: "actions to score, comma-separated (default: the bundle's labels)" },
  'labels-file': { type: 'string', multiple: true, value: 'FILE', help: 'a label file' },
  providers: { type: 'string', value: 'LIST', default: 'tensorrt,cuda,cpu', help: 'execution providers in order of preference' },
  top: { type: 'string', value: 'N', default: '5', help: 'scores printed per clip' },
  clips: { type: 'string', value: 'N', help: 'stop after this many clips (default: when the inputs end)' },
  stride: { type: 'string', value: 'N', default: '4', help: 'a new clip every this many sampled frames' },
  'frame-interval-ms': { type: 'string', value: 'MS', help: "one frame sampled every this many ms (default: the bundle's)" },
  'log-level': { type: 'string', value: 'LEVEL', default: 'warn', help: 'log level of the JSON log on stderr' },
  offline: { type: 'boolean', help: 'files only: decode as fast as possible and infer every clip' },
} satisfies OptionTable;

const positive = (value: string, flag: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new MstaError('CLI_USAGE', `${flag} must be a positive number, got "${value}"`, { where: 'probe' });
  return n;
};

export const probeCommand: Command = {
  name: 'probe',
  summary: 'try labels on a camera or file: one JSON line per clip with the top scores',
  options: OPTIONS,
  async run(argv) {
    const { values } = parseCommandArgs('probe', argv, OPTIONS);
    const inputs = values.input ?? [];
    if (inputs.length === 0) throw new MstaError('CLI_USAGE', '--input URL_OR_FILE is required (repeat it for several inputs)', { where: 'probe' });
    const top = positive(values.top, '--top');
    const maxClips = values.clips === undefined ? Infinity : positive(values.clips, '--clips');
    const stride = positive(values.stride, '--stride');
    // Files only: decode as fast as possible and infer every clip (none replaced while one runs).
    const offline = values.offline ?? false;
    // Logs go to stderr: stdout carries only the JSON lines.
    const log = createLogger({ level: values['log-level'], format: 'json', destination: process.stderr });
    const bundle = await readBundle(values.bundle ?? DEMO_BUNDLE);
    const m = bundle.manifest;
    const model = await openVideoModel(
      bundle,
      {
        // The config's model defaults: probe infers as `run` does.
        ...modelOptions(configSchema.parse({ model: { bundle: bundle.dir } }).model!),
        providers: values.providers.split(',').map((p) => p.trim()),
      },
      { log, registry: new Registry() },
    );
    const registry = new Registry();
    const runners: CameraRunner[] = [];
    try {
      const labels = { files: values['labels-file'] ?? [], actions: values.labels?.split(',').map((s) => s.trim()).filter(Boolean) ?? [] };
      const recognizer = await buildRecognizer(
        configuredLabelSet(labels, m),
        undefined,
        model,
        new ClipTokenizer(loadClipVocab(bundle.vocabPath)),
        log,
      );
      let printed = 0;
      let finish: () => void = () => undefined;
      const enough = new Promise<void>((resolve) => (finish = resolve));
      const clipMetrics = registerClipMetrics(registry);
      const frameIntervalMs = values['frame-interval-ms'] === undefined ? (bundleFrameIntervalMs(m) ?? 125) : positive(values['frame-interval-ms'], '--frame-interval-ms');
      const scheduler = clipScheduler(() => model);
      inputs.forEach((url, i) => {
        const camera = `input${i}`;
        const runner = new CameraRunner(camera, {
          source: cameraSource({ camera, url, width: m.width, height: m.height, sampleIntervalMs: frameIntervalMs, realtime: !offline }, { registry, log }),
          model,
          scheduler,
          clipMetrics,
          log,
          onStatus: (s) => s.state === 'stalled' && log.warn({ input: redactUrl(url) }, 'input stalled'),
          onScores(scores) {
            if (printed >= maxClips) return;
            printed++;
            process.stdout.write(`${JSON.stringify({
              input: redactUrl(url),
              clip: scores.clip.seq,
              first_frame_at: isoTime(scores.clip.firstFrameAt),
              last_frame_at: isoTime(scores.clip.lastFrameAt),
              top: topK(recognizer.names, scores.scores, top),
            })}\n`);
            if (printed >= maxClips) finish();
          },
          onEvent: () => undefined,
        });
        runner.start({ frameIntervalMs, stride, everyClip: offline });
        runner.setRecognizer(recognizer, { smoothing: 1, start: 1, end: 0, minClips: 1, minScore: 0, topK: top, updateEveryClips: 1, updateRise: 1, model: { name: m.name, sha256: bundle.sha256 } });
        runners.push(runner);
      });
      await Promise.race([enough, Promise.all(runners.map((r) => r.ingestDone))]);
      if (printed === 0) throw new MstaError('SOURCE_FAILED', 'no clip was made: the input ended or failed before enough frames arrived (see the log lines above)', { where: inputs.map(redactUrl).join(', ') });
      return 0;
    } finally {
      await Promise.all(runners.map((r) => r.stop()));
      await model.close();
    }
  },
};
