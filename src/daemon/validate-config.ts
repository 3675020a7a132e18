// The one validation of a parsed config: every check `run` makes before it connects to anything,
// across stages (bundle, labels, media files, TLS files, listen address). check-config, run and the
// SIGHUP reload all call prepareConfig, so "ok" from check-config means run accepts the config.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import { effectiveSettings, hasOwnLabels } from '../config/effective-settings.js';
import { isLoopbackListen, type Config } from '../config/schema.js';
import { isMstaError } from '../errors.js';
import type { BundleManifest } from '../model/bundle-manifest.js';
import { readBundle, type Bundle } from '../model/read-bundle.js';
import { readFailure } from '../read-text.js';
import type { LabelSet } from '../recognize/label-set.js';
import { parseSourceUrl } from '../source-url.js';
import { streamKey } from '../types.js';
import { DEMO_BUNDLE } from './defaults.js';
import { configuredLabelSet } from './recognizer.js';
import { applyRunFlags } from './run-flags.js';

/** A config that passed every check, with what the checks had to load anyway. */
export interface PreparedConfig {
  config: Config & { model: NonNullable<Config['model']> };
  bundle: Bundle;
  /** The global labels' set (the console's default, and every camera without labels of its own). */
  labelSet: LabelSet;
  /** Each enabled camera's label set, by camera id (the global one's object where it names no labels). */
  cameraLabelSets: Map<string, LabelSet>;
  /** Each region's label set, by stream key (camera/region): its camera's set object where it names no labels. */
  regionLabelSets: Map<string, LabelSet>;
}

export interface PrepareOptions {
  /** An already verified bundle to use instead of reading model.bundle again (reload, model unchanged). */
  bundle?: Bundle;
}

/** No model configured: the test bundle that ships with msta-edge (the demo). */
export function withDefaultBundle(config: Config): Config {
  return config.model ? config : applyRunFlags(config, { bundle: DEMO_BUNDLE });
}

function fileProblem(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return `${path}: not a regular file`;
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (e) {
    return `${path}: ${readFailure(e)}`;
  }
}

/** TLS files exist, are readable and hold what their key says (a PEM certificate, a private key). */
function tlsIssues(tls: NonNullable<Config['mqtt']['tls']>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const key of ['ca', 'cert', 'key'] as const) {
    const path = tls[key];
    if (path === undefined) continue;
    const problem = fileProblem(path);
    if (problem !== undefined) {
      issues.push({ path: ['mqtt', 'tls', key], message: problem });
      continue;
    }
    try {
      const pem = readFileSync(path);
      if (key === 'key') createPrivateKey(pem);
      else new X509Certificate(pem);
    } catch (e) {
      issues.push({ path: ['mqtt', 'tls', key], message: `${path}: not a PEM ${key === 'key' ? 'private key' : 'certificate'} (${(e as Error).message})` });
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    issues.push({ path: ['mqtt', 'tls', tls.cert === undefined ? 'cert' : 'key'], message: 'a client certificate needs both cert and key' });
  }
  return issues;
}

function isLocalAddress(address: string): boolean {
  if (address === '0.0.0.0' || address === '::' || address.startsWith('127.') || address === '::1') return true;
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === address));
}

/** The listen host resolves to an address of this machine (binding it is left to start-up). */
async function listenIssues(listen: string): Promise<ConfigIssue[]> {
  const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
  const path = ['http', 'listen'];
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch (e) {
    return [{ path, message: `host "${host}" does not resolve (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` }];
  }
  if (!addresses.some(isLocalAddress)) return [{ path, message: `host "${host}" (${addresses.join(', ')}) is not an address of this machine` }];
  return [];
}

/** Off loopback, the console and /api are open to the network: credentials are required. */
function authIssues(http: Config['http']): ConfigIssue[] {
  const { token, credentials } = http.auth;
  if (token !== undefined || credentials !== undefined || isLoopbackListen(http.listen)) return [];
  return [
    {
      path: ['http', 'auth'],
      message: `http.listen ${http.listen} is not a loopback address: the console and /api need http.auth.token_file or http.auth.credentials_file (or listen on 127.0.0.1)`,
    },
  ];
}

/** File cameras name a readable file (a missing one would only show as reconnects at run time). */
function mediaIssues(config: Config): ConfigIssue[] {
  return config.cameras.flatMap((camera, i) => {
    if (!camera.enabled || camera.url === undefined) return [];
    const spec = parseSourceUrl(camera.url);
    if (spec.kind !== 'file') return [];
    const problem = fileProblem(spec.path);
    return problem === undefined ? [] : [{ path: ['cameras', i, 'url'], message: problem }];
  });
}

/**
 * Why `dir` could not be used as a folder this process writes in, without creating anything: it
 * (or, where it does not exist yet, the nearest folder above it, in which it would be created) must
 * be a writable directory.
 */
function writableDirProblem(dir: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    try {
      if (!statSync(at).isDirectory()) return `${at} is not a directory`;
    } catch (e) {
      // Absent, or under a file (ENOTDIR): the folder above says why.
      if (['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '') && dirname(at) !== at) continue;
      return `${at}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    }
    try {
      accessSync(at, constants.W_OK | constants.X_OK);
      return undefined;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'EROFS' ? 'on a read-only file system' : 'not writable by this user';
      return `${at}${at === dir ? '' : ` (where ${dir} would be created)`}: ${why} (${code ?? (e as Error).message})`;
    }
  }
}

/** The spool folder and the event database's folder can be written (run would fail at start). */
function storageIssues(config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const spool = writableDirProblem(config.mqtt.spool.dir);
  if (spool !== undefined) issues.push({ path: ['mqtt', 'spool', 'dir'], message: spool });
  if (config.events.enabled) {
    let isDir = false;
    try {
      isDir = statSync(config.events.path).isDirectory();
    } catch {
      // Absent: it is created.
    }
    const problem = isDir ? `${config.events.path} is a directory, not a database file` : writableDirProblem(dirname(config.events.path));
    if (problem !== undefined) issues.push({ path: ['events', 'path'], message: problem });
  }
  return issues;
}

/** A label or bundle error, as an issue at the config key that led to it. */
function asIssue(path: (string | number)[], e: unknown): ConfigIssue {
  if (isMstaError(e)) return { path, message: e.message };
  throw e;
}

/**
 * Checks everything `run` checks before connecting to anything; throws one ConfigError (exit 2)
 * listing every problem with its config key. `origin` names where the config came from (its file,
 * or "command line").
 */
export async function prepareConfig(input: Config, origin: string, options: PrepareOptions = {}): Promise<PreparedConfig> {
  const config = withDefaultBundle(input) as PreparedConfig['config'];
  const issues: ConfigIssue[] = [];
  let bundle: Bundle | undefined = options.bundle;
  if (bundle === undefined) {
    try {
      bundle = await readBundle(config.model.bundle);
    } catch (e) {
      issues.push(asIssue(['model', 'bundle'], e));
    }
  }
  let labelSet: LabelSet | undefined;
  const cameraLabelSets = new Map<string, LabelSet>();
  const regionLabelSets = new Map<string, LabelSet>();
  const named = config.labels.files.length > 0 || config.labels.actions.length > 0;
  if (bundle !== undefined || named) {
    // Without a bundle its template is unknown: the label files and names are still checked.
    const manifest: Pick<BundleManifest, 'template' | 'labels'> = bundle?.manifest ?? { template: '{}' };
    try {
      labelSet = configuredLabelSet(config.labels, manifest);
    } catch (e) {
      issues.push(asIssue(['labels'], e));
    }
    config.cameras.forEach((camera, i) => {
      if (!camera.enabled) return;
      if (!hasOwnLabels(camera)) {
        if (labelSet) cameraLabelSets.set(camera.id, labelSet);
        return;
      }
      // A problem in the camera's own labels (or in global files it keeps) is reported at its path.
      const where = camera.labels?.actions ? `cameras[${i}].labels.actions` : 'labels.actions';
      try {
        cameraLabelSets.set(camera.id, configuredLabelSet(effectiveSettings(config, camera).labels, manifest, where));
      } catch (e) {
        issues.push(asIssue(['cameras', i, 'labels'], e));
      }
    });
    config.cameras.forEach((camera, i) => {
      if (!camera.enabled) return;
      camera.regions.forEach((region, j) => {
        const key = streamKey(camera.id, region.name);
        if (!hasOwnLabels(region)) {
          const set = cameraLabelSets.get(camera.id);
          if (set) regionLabelSets.set(key, set);
          return;
        }
        // The region's own list where it names one, else the one it keeps (its camera's, or the global).
        const ownList = (o: { labels?: { files?: unknown; actions?: unknown } | undefined }) => o.labels?.files !== undefined || o.labels?.actions !== undefined;
        const where = ownList(region) ? `cameras[${i}].regions[${j}].labels.actions` : ownList(camera) ? `cameras[${i}].labels.actions` : 'labels.actions';
        try {
          regionLabelSets.set(key, configuredLabelSet(effectiveSettings(config, camera, region).labels, manifest, where));
        } catch (e) {
          issues.push(asIssue(['cameras', i, 'regions', j, 'labels'], e));
        }
      });
    });
  }
  issues.push(...mediaIssues(config));
  issues.push(...storageIssues(config));
  if (config.mqtt.tls) issues.push(...tlsIssues(config.mqtt.tls));
  issues.push(...(await listenIssues(config.http.listen)));
  issues.push(...authIssues(config.http));
  if (issues.length > 0 || bundle === undefined || labelSet === undefined) throw new ConfigError(origin, issues);
  return { config, bundle, labelSet, cameraLabelSets, regionLabelSets };
}
