import { existsSync } from 'node:fs';
import type { Config } from '../../config/schema.js';
import { defaultConfig, loadConfigFile } from '../../config/load-config.js';
import { ConfigError, formatIssue } from '../../config/config-error.js';
import { isMstaError, MstaError } from '../../errors.js';
import { Daemon } from '../daemon.js';
import { DEMO_VIDEO } from '../defaults.js';
import { createLogger } from '../logger.js';
import { applyRunFlags } from '../run-flags.js';
import { createNotifier } from '../sd-notify.js';
import { prepareConfig, withDefaultBundle } from '../validate-config.js';
import { parseCommandArgs, type Command } from './command.js';

/** With no config and no flags: the demo video in a loop through the test bundle. */
function demoConfig(config: Config): Config {
  if (!existsSync(DEMO_VIDEO)) throw new MstaError('CONFIG_INVALID', `the demo video ${DEMO_VIDEO} is missing: pass --config or --camera`);
  return {
    ...config,
    cameras: [{ id: 'demo', url: `file://${DEMO_VIDEO}`, transport: 'tcp', latency_ms: 200, decoder: 'auto', loop: true, enabled: true }],
    // The demo video's idle stretches: scored as "none of these", never reported.
    labels: { ...config.labels, background: config.labels.background ?? 'nothing happening' },
    // Its actions last 2.4 s: a clip every 2 sampled frames sees each one several times.
    recognition: { ...config.recognition, stride: 2 },
  };
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run the daemon (no arguments: the demo on embedded defaults)',
  async run(argv) {
    const { values } = parseCommandArgs('run', argv, {
      config: { type: 'string', short: 'c' },
      bundle: { type: 'string' },
      camera: { type: 'string', multiple: true },
      labels: { type: 'string' },
      'labels-file': { type: 'string' },
      'mqtt-url': { type: 'string' },
      http: { type: 'string' },
    });
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
    const secrets = [config.mqtt.password, config.mqtt.username].filter((s): s is string => !!s);
    const log = createLogger({ level: config.logging.level, format: config.logging.format, secrets });
    const notifier = createNotifier(process.env, (e) => log.warn({ err: e.message }, 'sd_notify failed'));
    const daemon = new Daemon(config, { log, notifier });

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
          log.error({ timeout_s: config.shutdown_timeout_s }, 'shutdown timed out: exiting anyway');
          resolve(1);
        }, timeoutMs);
        daemon.stop().then(
          () => (clearTimeout(timer), resolve(0)),
          (e: unknown) => (clearTimeout(timer), log.error({ err: (e as Error).message }, 'error while stopping'), resolve(1)),
        );
      });
      return stopping;
    };
    const exitAfter = (signal: string) => () => void stop(signal).then((code) => process.exit(code));
    process.on('SIGTERM', exitAfter('SIGTERM'));
    process.on('SIGINT', exitAfter('SIGINT'));
    process.on('SIGHUP', () => {
      if (!configFile) {
        log.warn('SIGHUP: no --config file to reload');
        return;
      }
      let next: Config;
      try {
        next = load();
      } catch (e) {
        const issues = e instanceof ConfigError ? e.issues.map(formatIssue) : [(e as Error).message];
        log.error({ file: configFile, issues }, 'SIGHUP: new config rejected, keeping the running one');
        return;
      }
      daemon.reload(next, configFile).then(
        () => log.info({ file: configFile }, 'config reloaded'),
        (e: unknown) =>
          e instanceof ConfigError
            ? log.error({ file: configFile, issues: e.issues.map(formatIssue) }, 'SIGHUP: new config rejected, keeping the running one')
            : log.error({ err: (e as Error).message }, 'SIGHUP: reload failed, keeping the running config'),
      );
    });

    try {
      await daemon.start(prepared);
    } catch (e) {
      log.fatal({ err: (e as Error).message, code: isMstaError(e) ? e.code : undefined }, 'start failed');
      await daemon.stop().catch(() => undefined);
      throw e;
    }
    if (!configFile && !values.camera) {
      log.info(`demo running: watch events with  mosquitto_sub -h 127.0.0.1 -p ${new URL(daemon.mqttUrl).port || 1883} -t '${config.mqtt.base_topic}/#' -v`);
    }
    // Runs until a signal; the handlers exit the process.
    return new Promise<number>(() => undefined);
  },
};
