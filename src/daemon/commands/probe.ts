// `msta-edge probe`: the real pipeline (source -> clip -> model -> scores) on one or more inputs,
// one JSON line per clip on stdout: the command a user runs to try labels on a camera.
import { Registry } from 'prom-client';
import { registerClipMetrics } from '../../clip/clip-metrics.js';
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
import { buildRecognizer, configuredLabelSet } from '../recognizer.js';
import { parseCommandArgs, type Command } from './command.js';

const positive = (value: string | undefined, flag: string, fallback: number): number => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new MstaError('CLI_USAGE', `${flag} must be a positive number, got "${value}"`, { where: 'probe' });
  return n;
};

export const probeCommand: Command = {
  name: 'probe',
  summary: 'try labels on a camera or file: one JSON line per clip with the top scores',
  async run(argv) {
    const { values } = parseCommandArgs('probe', argv, {
      bundle: { type: 'string' },
      input: { type: 'string', multiple: true },
      labels: { type: 'string' },
      'labels-file': { type: 'string', multiple: true },
      providers: { type: 'string' },
      top: { type: 'string' },
      clips: { type: 'string' },
      stride: { type: 'string' },
      'frame-interval-ms': { type: 'string' },
      'log-level': { type: 'string' },
    });
    const inputs = values.input ?? [];
    if (inputs.length === 0) throw new MstaError('CLI_USAGE', '--input URL_OR_FILE is required (repeat it for several inputs)', { where: 'probe' });
    const top = positive(values.top, '--top', 5);
    const maxClips = positive(values.clips, '--clips', Infinity);
    const stride = positive(values.stride, '--stride', 4);
    // Logs go to stderr: stdout carries only the JSON lines.
    const log = createLogger({ level: values['log-level'] ?? 'warn', format: 'json', destination: process.stderr });
    const bundle = await readBundle(values.bundle ?? DEMO_BUNDLE);
    const m = bundle.manifest;
    const model = await openVideoModel(
      bundle,
      { providers: (values.providers ?? 'tensorrt,cuda,cpu').split(',').map((p) => p.trim()), intraOpThreads: 0, interOpThreads: 0, tensorrt: { fp16: true, engineCacheDir: '.cache/tensorrt' }, workers: 1, maxBatch: 4, maxWaitMs: 5 },
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
      inputs.forEach((url, i) => {
        const camera = `input${i}`;
        const runner = new CameraRunner(camera, {
          source: cameraSource({ camera, url, width: m.width, height: m.height }, { registry, log }),
          model,
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
        runner.start({ frameIntervalMs: positive(values['frame-interval-ms'], '--frame-interval-ms', bundleFrameIntervalMs(m) ?? 125), stride });
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
