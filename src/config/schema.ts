// The one config schema (YAML, snake_case). Strict everywhere: an unknown key is an error, so a
// typo never silently falls back to a default. `msta-edge schema` prints it as JSON Schema.
import { z } from 'zod';
import { sourceUrlProblem } from '../source-url.js';
import { effectiveSettings } from './effective-settings.js';
import { overrideOf } from './overrides-schema.js';
import { cameraViewFields } from './region-schema.js';
import { snapshotSchema } from './snapshot-schema.js';

/** Camera ids become MQTT topic levels and metric labels: letters, digits, '_' and '-' only. */
export const CAMERA_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Why a camera URL is refused: the source's own parser (one check for check-config and run), and
 * in a config a file path must be absolute (relative to what would be ambiguous).
 */
export function cameraUrlProblem(url: string): string | undefined {
  const trimmed = url.trim();
  if (trimmed !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(trimmed) && !trimmed.startsWith('/')) {
    return 'must be a URL (rtsp, rtsps, file, v4l2, test) or an absolute file path';
  }
  return sourceUrlProblem(url);
}

/** host:port, with the port 0-65535 (0: any free port, for tests). */
function listenProblem(listen: string): string | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):(\d{1,5})$/.exec(listen);
  if (!m) return 'must be HOST:PORT (an IPv6 host in brackets: [::1]:9464)';
  if (Number(m[2]) > 65535) return `port ${m[2]} is out of range (0-65535)`;
  return undefined;
}

/** Credentials in a broker URL are percent-encoded: a stray "%" would fail only at connect time. */
function mqttUrlProblem(url: string): string | undefined {
  if (!URL.canParse(url)) return 'must be an mqtt://, mqtts://, ws:// or wss:// URL';
  const parsed = new URL(url);
  if (!/^(mqtts?|wss?|tcp|ssl):$/.test(parsed.protocol)) return 'must be an mqtt://, mqtts://, ws:// or wss:// URL';
  if (parsed.hostname === '') return 'has no host';
  for (const [part, value] of [['user name', parsed.username], ['password', parsed.password]] as const) {
    try {
      decodeURIComponent(value);
    } catch {
      return `the ${part} in the URL is not valid percent-encoding (write "%" as %25)`;
    }
  }
  return undefined;
}

/** A zod check from a function that says what is wrong. */
function check(problem: (value: string) => string | undefined) {
  return (value: string, ctx: z.RefinementCtx): void => {
    const why = problem(value);
    if (why !== undefined) ctx.addIssue({ code: 'custom', message: why });
  };
}

const model = z.strictObject({
  bundle: z.string().min(1).describe('model bundle directory (msta-bundle/1); relative paths are relative to the config file'),
  providers: z
    .array(z.enum(['tensorrt', 'cuda', 'cpu']))
    .min(1)
    .default(['tensorrt', 'cuda', 'cpu'])
    .describe('execution providers in order of preference; unavailable ones fall back to the next'),
  tensorrt: z
    .strictObject({
      fp16: z.boolean().default(true),
      engine_cache_dir: z.string().default('.cache/tensorrt'),
    })
    .prefault({}),
  intra_op_threads: z.union([z.literal('auto'), z.number().int().min(0)]).default('auto')
    .describe('threads per inference worker; auto = 1 per worker up to 4 cores, cores / workers beyond; 0 = onnxruntime decides'),
  inter_op_threads: z.number().int().min(0).default(0),
  precision: z
    .enum(['auto', 'fp32'])
    .default('auto')
    .describe("auto: the bundle's int8 video graph when the CPU provider serves (about 2x faster at full size); fp32: always float"),
  workers: z.union([z.literal('auto'), z.number().int().min(1).max(16)]).default('auto')
    .describe('inference worker threads; auto = one per core up to 4 on a CPU provider, 1 on a GPU'),
  max_batch: z.union([z.literal('auto'), z.number().int().min(1).max(64)]).default('auto')
    .describe('clips from several cameras per inference; auto = 1 on a CPU provider (a small model: as many clips as fit in 1.5 MB of input, 4 to 16), 8 on a GPU'),
  spinning: z.union([z.literal('auto'), z.boolean()]).default('auto')
    .describe("onnxruntime's threads spin-wait between runs (intra_op/inter_op allow_spinning); auto = off"),
  max_wait_ms: z.number().min(0).max(1000).default(5).describe('how long a clip waits for a batch to fill while every worker is busy (with one idle it leaves at once)'),
  timeout_factor: z.number().min(1).default(10)
    .describe('an inference running longer than this many times the warm-up inference (per clip of its batch) fails, and its worker is replaced'),
  timeout_min_s: z.number().positive().default(5).describe('the inference timeout is never shorter than this'),
  max_restarts: z.number().int().min(1).max(100).default(3)
    .describe('consecutive failed attempts to start a replacement worker before msta-edge exits (status 1) for its supervisor to restart it'),
});

const action = z.union([
  z.string().min(1),
  z.strictObject({
    name: z.string().min(1),
    descriptions: z.array(z.string().min(1)).default([]),
    threshold: z.number().min(0).max(1).optional().describe('overrides recognition.start for this label'),
  }),
]);

const labelFields = z.strictObject({
  template: z.string().includes('{}', { message: 'must contain {} where the action name goes' }).optional()
    .describe("prompt template; defaults to the bundle's"),
  files: z.array(z.string().min(1)).default([]).describe('label files: plain text (one per line) or YAML with descriptions'),
  actions: z.array(action).default([]),
  background: z.string().min(1).optional().describe('a label meaning "none of these": scored, never reported'),
  cache_dir: z.string().default('.cache/labels').describe('label-embedding cache (global only)'),
});

const labels = labelFields.prefault({});

const recognitionFields = z
  .strictObject({
    frame_interval_ms: z.number().positive().optional().describe("one frame sampled every this many ms; defaults to the bundle's"),
    stride: z.number().int().min(1).default(4).describe('a new clip every this many sampled frames (the clips wanted)'),
    stride_max: z.number().int().min(1).default(32)
      .describe('when the model cannot infer every camera\'s clips, the stride is raised up to this (clips stay evenly spaced; their times stay true)'),
    adapt_interval_s: z.number().positive().default(5).describe('how often the stride is adapted and coverage measured'),
    coverage_warn_below: z.number().min(0).max(1).default(0.5)
      .describe('warn once when a camera\'s clips inferred / clips wanted falls below this (and log its recovery)'),
    motion_gate: z
      .strictObject({
        enabled: z.boolean().default(false).describe('skip inference on still clips (counted in msta_clips_skipped_total{reason="still"}); an active action is still followed to its end'),
        threshold: z.number().min(0).max(100).default(0.05).describe('a clip is still when no two consecutive frames differ in more than this percent of a sparse grid of pixels (by more than 16 grey levels); 0.05: any changed pixel'),
      })
      .prefault({}),
    smoothing: z.number().gt(0).max(1).default(0.5).describe('EMA weight of the newest clip (1 = no smoothing)'),
    start: z.number().min(0).max(1).default(0.6).describe('smoothed score at which an action starts'),
    end: z.number().min(0).max(1).default(0.4).describe('smoothed score below which it ends'),
    min_clips: z.number().int().min(1).default(2).describe('clips above start before an action starts'),
    min_score: z.number().min(0).max(1).default(0).describe('top scores below this count as "none of these"'),
    top_k: z.number().int().min(1).max(20).default(3),
    update_every_clips: z.number().int().min(1).default(10).describe('an active action sends an update event every this many clips'),
    update_rise: z.number().gt(0).max(1).default(0.1).describe('...or at once when its score rises by this much'),
  });

/** The recognition settings with the checks across fields: the global block, and each camera's merged one. */
export const recognitionSchema = recognitionFields
  .refine((r) => r.end <= r.start, { message: 'end must not be above start (hysteresis)', path: ['end'] })
  .refine((r) => r.stride_max >= r.stride, { message: 'must not be below stride', path: ['stride_max'] });

const recognition = recognitionSchema.prefault({});

// A camera's own labels and recognition: the global fields without their defaults (an override
// names only what the user wrote). The label cache and the stride-adapting interval are the
// daemon's, one for all cameras.
export const labelsOverride = overrideOf(labelFields.omit({ cache_dir: true }))
  .describe('this camera\'s labels: files and actions together replace the global list when either is given (nothing appended); template and background replace the global ones');
export const recognitionOverride = overrideOf(recognitionFields.omit({ adapt_interval_s: true }))
  .describe('this camera\'s recognition settings, merged key by key over the global ones (motion_gate too)');

// A region's own recognition: the camera's frame interval is the one its decode samples at.
export const regionRecognitionOverride = overrideOf(recognitionFields.omit({ adapt_interval_s: true, frame_interval_ms: true }))
  .describe('this region\'s recognition settings, merged key by key over its camera\'s (frame_interval_ms is the camera\'s: one decode samples for every region)');
// A region's own labels: the camera's rule, one level down (its list replaces its camera's).
export const regionLabelsOverride = overrideOf(labelFields.omit({ cache_dir: true }))
  .describe('this region\'s labels: files and actions together replace its camera\'s list when either is given (nothing appended); template and background replace its camera\'s');

const camera = z.strictObject({
  id: z.string().regex(CAMERA_ID, 'must be 1-64 letters, digits, "_" or "-" (it becomes an MQTT topic level)'),
  url: z
    .string()
    .superRefine(check(cameraUrlProblem))
    .optional()
    .describe("rtsp://user:pass@host/path, file:///path, v4l2:///dev/video0 or test://smpte; ${ENV} works here. Prefer the camera's sub-stream (e.g. 640x360): the model sees 224x224 or less, and decoding a 1080p main stream costs several times more"),
  url_file: z.string().optional().describe('file holding the URL (a secret: it usually carries a password)'),
  transport: z.enum(['tcp', 'udp', 'auto']).default('tcp').describe('RTSP transport'),
  latency_ms: z.number().int().min(0).max(10_000).default(200).describe('RTSP jitter-buffer latency'),
  decoder: z
    .string()
    .min(1)
    .default('auto')
    .describe('auto (a hardware decoder when present: nvv4l2decoder, nvh264dec, vah264dec, vaapih264dec, v4l2h264dec), software, or a GStreamer element name'),
  loop: z.boolean().default(false).describe('files only: start again at the end'),
  max_fps: z.number().positive().optional().describe('drop frames above this rate before decoding work downstream'),
  snapshots: snapshotSchema,
  enabled: z.boolean().default(true),
  ...cameraViewFields({ labels: regionLabelsOverride.optional(), recognition: regionRecognitionOverride.optional() }),
  labels: labelsOverride.optional(),
  recognition: recognitionOverride.optional(),
});


const source = z
  .strictObject({
    stall_timeout_s: z.number().positive().default(10).describe('no frame for this long: reconnect'),
    reconnect_initial_ms: z.number().int().positive().default(500),
    reconnect_max_ms: z.number().int().positive().default(30_000).describe('backoff cap'),
    stop_timeout_ms: z.number().int().positive().default(2000).describe('a source process still alive after this is killed'),
  })
  .prefault({});

const mqtt = z
  .strictObject({
    url: z
      .string()
      .superRefine(check(mqttUrlProblem))
      .optional()
      .describe('broker; absent = an embedded broker on 127.0.0.1 (demo)'),
    protocol_version: z.union([z.literal(5), z.literal(4)]).default(5).describe('5 = MQTT 5, 4 = MQTT 3.1.1'),
    base_topic: z.string().regex(/^[^#+]+$/, 'must not contain # or +').default('msta'),
    client_id: z.string().min(1).optional(),
    username: z.string().optional(),
    username_file: z.string().optional(),
    password: z.string().optional(),
    password_file: z.string().optional(),
    tls: z
      .strictObject({
        ca: z.string().optional(),
        cert: z.string().optional(),
        key: z.string().optional(),
        reject_unauthorized: z.boolean().default(true),
      })
      .optional(),
    spool: z
      .strictObject({
        dir: z.string().default('.cache/spool'),
        max_bytes: z.number().int().positive().default(64 * 1024 * 1024),
      })
      .prefault({}),
    publish_scores: z.boolean().default(false).describe('per-clip top-k on <base>/<camera>/scores at QoS 0'),
    homeassistant: z
      .strictObject({
        enabled: z.boolean().default(false),
        prefix: z.string().default('homeassistant'),
      })
      .prefault({}),
  })
  .prefault({});

const http = z
  .strictObject({
    listen: z
      .string()
      .superRefine(check(listenProblem))
      .default('127.0.0.1:9464')
      .describe('/metrics, /healthz, /readyz, the console at / and its /api'),
    console: z
      .strictObject({
        enabled: z.boolean().default(true).describe('the web console at / and its live feed /api/live'),
        max_clients: z.number().int().min(1).max(1000).default(16).describe('live-feed connections at once; more are refused (503)'),
        max_buffered_bytes: z.number().int().min(1024).default(1024 * 1024).describe('a live-feed client this far behind is dropped (counted)'),
        max_phrase_chars: z.number().int().min(1).max(200).default(120).describe('longest playground phrase'),
        max_phrases: z.number().int().min(1).max(20).default(6).describe('playground phrases per live-feed connection'),
        phrases_per_minute: z.number().int().min(1).default(20).describe('new playground phrases embedded per client address and minute'),
      })
      .prefault({}),
    auth: z
      .strictObject({
        token: z.string().min(16, 'must be at least 16 characters').optional().describe('set from token_file (prefer the file)'),
        token_file: z.string().optional().describe('file holding a bearer token for the console and /api'),
        credentials: z.string().regex(/^[^:]+:.+$/, 'must be USER:PASSWORD').optional().describe('set from credentials_file (prefer the file)'),
        credentials_file: z.string().optional().describe('file holding USER:PASSWORD for basic auth to the console and /api'),
      })
      .prefault({})
      .describe('required when http.listen is not a loopback address; /metrics, /healthz and /readyz stay open'),
  })
  .prefault({});

/** Loopback listen hosts: the console and /api are open there; anywhere else they need http.auth. */
export function isLoopbackListen(listen: string): boolean {
  const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const events = z
  .strictObject({
    enabled: z.boolean().default(true).describe('keep the history of events in an SQLite database, served on /api/events'),
    path: z.string().min(1).default('.cache/events.db').describe('the SQLite database file; relative paths are relative to the config file'),
    flush_ms: z.number().int().min(0).max(10_000).default(100).describe('events are written together, in one transaction, every this many ms'),
    retention: z
      .strictObject({
        max_age_days: z.number().positive().default(30).describe('events that started longer ago are deleted'),
        max_events: z.number().int().positive().default(100_000).describe('most events kept; the oldest are deleted first'),
        max_snapshot_bytes: z.number().int().positive().default(1024 ** 3).describe('most bytes of snapshot files kept; the oldest events lose theirs first'),
        interval_s: z.number().positive().default(60).describe('how often retention runs while events are written (and at start)'),
      })
      .prefault({}),
  })
  .prefault({});

const logging = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
    format: z.enum(['auto', 'json', 'pretty']).default('auto').describe('auto = pretty on a terminal, JSON otherwise'),
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    cameras: z.array(camera).default([]),
    model: model.optional(),
    labels,
    recognition,
    source,
    mqtt,
    http,
    events,
    logging,
    shutdown_timeout_s: z.number().positive().default(5),
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.cameras.forEach((c, i) => {
      const first = seen.get(c.id);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['cameras', i, 'id'], message: `duplicate camera id "${c.id}" (also cameras[${first}])` });
      } else seen.set(c.id, i);
      if ((c.url === undefined) === (c.url_file === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['cameras', i], message: 'give exactly one of url and url_file' });
      }
      // The camera's (and each region's) recognition as it will run: the global checks (end <= start, ...) on the merge.
      const checkMerged = (settings: ReturnType<typeof effectiveSettings>, at: Array<string | number>): void => {
        const merged = recognitionSchema.safeParse(settings.recognition);
        // Only the checks across fields: a bad value itself is reported once, by the override schema.
        for (const issue of merged.success ? [] : merged.error.issues.filter((i) => i.code === 'custom')) {
          ctx.addIssue({ code: 'custom', path: [...at, 'recognition', ...issue.path.filter((p) => typeof p !== 'symbol')], message: issue.message });
        }
      };
      if (c.recognition !== undefined) checkMerged(effectiveSettings(config, c), ['cameras', i]);
      c.regions.forEach((r, j) => {
        if (r.recognition !== undefined) checkMerged(effectiveSettings(config, c, r), ['cameras', i, 'regions', j]);
      });
    });
    for (const key of ['username', 'password'] as const) {
      if (config.mqtt[key] !== undefined && config.mqtt[`${key}_file`] !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['mqtt', `${key}_file`], message: `give ${key} or ${key}_file, not both` });
      }
    }
    const auth = config.http.auth;
    for (const key of ['token', 'credentials'] as const) {
      if (auth[key] !== undefined && auth[`${key}_file`] !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['http', 'auth', `${key}_file`], message: `give ${key} or ${key}_file, not both` });
      }
    }
  });

export type Config = z.output<typeof configSchema>;
export type CameraConfig = Config['cameras'][number];
export type RegionConfig = CameraConfig['regions'][number];
export type ActionConfig = Config['labels']['actions'][number];
export type LabelsConfig = z.output<typeof labelFields>;
export type RecognitionConfig = z.output<typeof recognitionFields>;
export type LabelsOverride = z.output<typeof labelsOverride>;
export type RecognitionOverride = z.output<typeof recognitionOverride>;
