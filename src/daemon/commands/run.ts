import { existsSync } from 'node:fs';
import type { Config } from '../../config/schema.js';
import { defaultConfig, loadConfigFile } from '../../config/load-config.js';
import { ConfigError, formatIssue } from '../../config/config-error.js';
import { isMstaError, MstaError } from '../../errors.js';
import { Daemon } from '../daemon.js';
import { DEMO_VIDEO } from '../defaults.js';
import { createLogger } from '../logger.js';
import { applyRunFlags } from '../run-flags.js';
import { coalescing } from '../coalesce.js';
import { createNotifier } from '../sd-notify.js';
import { installSignalRouter } from '../signals.js';
import { prepareConfig, withDefaultBundle } from '../validate-config.js';
import { parseCommandArgs, type Command, type OptionTable } from './command.js';
import { snapshotSchema } from '../../config/snapshot-schema.js';

const OPTIONS = {
  config: { type: 'string', short: 'c', value: 'FILE', help: 'the YAML config (`msta-edge schema` describes it); without it and --camera: the demo' },
  bundle: { type: 'string', value: 'DIR', help: 'model bundle directory (overrides model.bundle)' },
  camera: { type: 'string', multiple: true, value: 'ID=URL', help: 'a camera: rtsp://, file://, v4l2:// or test:// URL (replaces the configured cameras)' },
  labels: { type: 'string', value: 'A,B,...', help: 'actions to recognise, comma-separated (replaces the configured labels)' },
  'labels-file': { type: 'string', value: 'FILE', help: 'a label file (replaces the configured label files)' },
  'mqtt-url': { type: 'string', value: 'URL', help: 'the MQTT broker (overrides mqtt.url)' },
  http: { type: 'string', value: 'HOST:PORT', help: 'where /metrics, /healthz, /readyz and /api listen (overrides http.listen)' },
} satisfies OptionTable;

/** With no config and no flags: the demo video in a loop through the test bundle. */
function demoConfig(config: Config): Config {
  if (!existsSync(DEMO_VIDEO)) throw new MstaError('CONFIG_INVALID', `the demo video ${DEMO_VIDEO} is missing: pass --config or --camera`);
  return {
    ...config,
    cameras: [{ id: 'demo', url: `file://${DEMO_VIDEO}`, transport: 'tcp', latency_ms: 200, decoder: 'auto', loop: true, snapshots: snapshotSchema.parse({}), enabled: true, crop: 'center', masks: [], regions: [] }],
    // The demo video's idle stretches: scored as "none of these", never reported.
    labels: { ...config.labels, background: config.labels.background ?? 'nothing happening' },
    // Its actions last 2.4 s: a clip every 2 sampled frames sees each one several times.
    recognition: { ...config.recognition, stride: 2 },
  };
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run the daemon (no arguments: the demo on embedded defaults)',
  options: OPTIONS,
  async run(argv, context) {
    const { values } = parseCommandArgs('run', argv, OPTIONS);
    const configFile = values.config;
    const load = (): Config => {
      let config = configFile ? loadConfigFile(configFile) : defaultConfig();
      if (!configFile && !values.camera) config = demoConfig(config);
      config = applyRunFlags(config, {
        ...(values.bundle !== undefined ? { bundle: values.bundle } : {}),
        ...(values.camera !== undefined ? { camera: values.camera } : {}),
        ...(values.labels !== undefined ? { labels: values.labels } : {}),
        ...(values['labels-file'] !== undefined ? { labelsFile: values['labels-file'] } : {}),
        ...(values['mqtt-url'] !== undefined ? { mqttUrl: values['mqtt-url'] } : {}),
        ...(values.http !== undefined ? { http: values.http } : {}),
      });
      return withDefaultBundle(config);
    };
    // Every check check-config makes, before anything is connected: a config error exits 2 here.
    const prepared = await prepareConfig(load(), configFile ?? 'command line');
    const { config } = prepared;
    const secrets = [config.mqtt.password, config.mqtt.username, config.http.auth.token, config.http.auth.credentials, config.http.auth.credentials?.slice(config.http.auth.credentials.indexOf(':') + 1)].filter((s): s is string => !!s);
    const log = createLogger({ level: config.logging.level, format: config.logging.format, secrets });
    const notifier = createNotifier(process.env, (e) => log.warn({ err: e.message }, 'sd_notify failed'));
    const daemon = new Daemon(config, {
      log,
      notifier,
      // Stopped in order, then status 1: systemd (Restart=on-failure) starts a fresh process.
      onFatal: (e) => {
        log.fatal({ err: e.message }, 'cannot recover: exiting with status 1');
        void stop('fatal').then(() => process.exit(1));
      },
    });

    // A stop (SIGTERM, SIGINT) exits 0 once everything stopped, at any moment, start-up
    // included; 1 when stopping failed or took longer than shutdown_timeout_s.
    let stopping: Promise<number> | undefined;
    const stop = (signal: string): Promise<number> => {
      if (stopping) {
        log.warn({ signal }, 'already stopping');
        return stopping;
      }
      log.info({ signal }, 'stopping');
      const timeoutMs = config.shutdown_timeout_s * 1000;
      stopping = new Promise<number>((resolve) => {
        const timer = setTimeout(() => {
          log.error({ timeout_s: config.shutdown_timeout_s }, 'shutdown timed out: killing the source children and exiting');
          daemon.killChildren();
          resolve(1);
        }, timeoutMs);
        daemon.stop().then(
          () => (clearTimeout(timer), resolve(0)),
          (e: unknown) => (clearTimeout(timer), log.error({ err: (e as Error).message }, 'error while stopping'), resolve(1)),
        );
      });
      return stopping;
    };
    // One reload at a time; SIGHUPs meanwhile become one more reload, of the newest file.
    const reload = coalescing(async () => {
      let next: Config;
      try {
        next = load();
      } catch (e) {
        const issues = e instanceof ConfigError ? e.issues.map(formatIssue) : [(e as Error).message];
        log.error({ file: configFile, issues }, 'SIGHUP: new config rejected, keeping the running one');
        return;
      }
      try {
        await daemon.reload(next, configFile);
        log.info({ file: configFile }, 'config reloaded');
      } catch (e) {
        if (e instanceof ConfigError) log.error({ file: configFile, issues: e.issues.map(formatIssue) }, 'SIGHUP: new config rejected, keeping the running one');
        else log.error({ err: (e as Error).message, code: isMstaError(e) ? e.code : undefined }, 'SIGHUP: reload failed, keeping the running config');
      }
    });
    (context.signals ?? installSignalRouter()).claim((signal) => {
      if (signal !== 'SIGHUP') {
        void stop(signal).then((code) => process.exit(code));
      } else if (!configFile) {
        log.warn('SIGHUP: no --config file to reload');
      } else {
        void reload();
      }
    });

    try {
      await daemon.start(prepared);
    } catch (e) {
      if (stopping) return stopping; // a stop asked during start-up: its exit code stands
      log.fatal({ err: (e as Error).message, code: isMstaError(e) ? e.code : undefined }, 'start failed');
      await daemon.stop().catch(() => undefined);
      throw e;
    }
    if (stopping) return new Promise<number>(() => undefined); // the stop handler exits
    if (!configFile && !values.camera) {
      log.info(`demo running: watch events with  mosquitto_sub -h 127.0.0.1 -p ${new URL(daemon.mqttUrl).port || 1883} -t '${config.mqtt.base_topic}/#' -v`);
    }
    // Runs until a signal; the handlers exit the process.
    return new Promise<number>(() => undefined);
  },
};
