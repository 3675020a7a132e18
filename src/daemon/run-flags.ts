// `msta-edge run` flags: the essentials for a quick start without a config file. Flags override
// the config file; the result is validated by the same schema, so flag mistakes read like config
// mistakes (with the flag named).
import { resolve } from 'node:path';
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import { configSchema, type Config } from '../config/schema.js';
import { redactUrl } from '../redact.js';
import { snapshotSchema } from '../config/snapshot-schema.js';

export interface RunFlags {
  bundle?: string;
  camera?: string[];
  labels?: string;
  labelsFile?: string;
  mqttUrl?: string;
  http?: string;
}

const FLAG_OF_SECTION: Record<string, string> = { cameras: '--camera', mqtt: '--mqtt-url', http: '--http', labels: '--labels', model: '--bundle' };

export function parseCameraFlag(value: string): { id: string; url: string } | undefined {
  const eq = value.indexOf('=');
  if (eq <= 0) return undefined;
  return { id: value.slice(0, eq), url: value.slice(eq + 1) };
}

/** The config with flags applied; throws ConfigError naming the flag for invalid values. */
export function applyRunFlags(config: Config, flags: RunFlags, cwd = process.cwd()): Config {
  const issues: ConfigIssue[] = [];
  const merged = structuredClone(config);
  if (flags.bundle !== undefined) merged.model = { ...(merged.model ?? configSchema.shape.model.unwrap().parse({ bundle: '.' })), bundle: resolve(cwd, flags.bundle) };
  if (flags.camera && flags.camera.length > 0) {
    merged.cameras = flags.camera.flatMap((value) => {
      const camera = parseCameraFlag(value);
      if (!camera) {
        issues.push({ path: ['--camera'], message: `"${redactUrl(value)}" is not ID=URL` });
        return [];
      }
      return [{ ...camera, transport: 'tcp' as const, latency_ms: 200, decoder: 'auto', loop: false, snapshots: snapshotSchema.parse({}), enabled: true, crop: 'center' as const, masks: [], regions: [] }];
    });
  }
  if (flags.labels !== undefined) {
    merged.labels.actions = flags.labels.split(',').map((s) => s.trim()).filter(Boolean);
    merged.labels.files = [];
  }
  if (flags.labelsFile !== undefined) {
    merged.labels.files = [resolve(cwd, flags.labelsFile)];
    if (flags.labels === undefined) merged.labels.actions = [];
  }
  if (flags.mqttUrl !== undefined) merged.mqtt.url = flags.mqttUrl;
  if (flags.http !== undefined) merged.http.listen = flags.http;
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const path = i.path.filter((p): p is string | number => typeof p !== 'symbol');
      // Name the flag the value came from: cameras[0].id -> --camera[0].id, http.listen -> --http.
      const flag = FLAG_OF_SECTION[String(path[0])];
      issues.push({ path: flag === undefined ? path : path[0] === 'cameras' ? [flag, ...path.slice(1)] : [flag], message: i.message });
    }
  }
  if (issues.length > 0) throw new ConfigError('command line', issues);
  return parsed.data!;
}
