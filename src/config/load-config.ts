// Reads, substitutes, validates and resolves a YAML config, collecting every problem with its
// YAML path (and line) instead of stopping at the first.
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Node } from 'yaml';
import type { z } from 'zod';
import { MstaError } from '../errors.js';
import { readFailure, readTextFile, TextEncodingError } from '../read-text.js';
import { ConfigError, formatPath, type ConfigIssue } from './config-error.js';
import { cameraUrlProblem, configSchema, type Config } from './schema.js';
import { substituteEnv } from './substitute-env.js';

export interface ParseOptions {
  /** Where the text came from; relative paths in the config resolve against its folder. */
  file: string;
  env?: Readonly<Record<string, string | undefined>>;
  /** Reads a `*_file` secret; defaults to the file system. */
  readSecret?: (path: string) => string;
}

/** The line of the key (or sequence item) at a path: where a user looks for the mistake. */
function locate(doc: ReturnType<typeof parseDocument>, counter: LineCounter, path: (string | number)[]): number | undefined {
  let node: unknown = doc.contents;
  let last: Node | undefined;
  for (const step of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === step);
      if (!pair) break;
      last = pair.key as Node;
      node = pair.value;
    } else if (node && typeof node === 'object' && 'items' in node && typeof step === 'number') {
      node = (node as { items: unknown[] }).items[step];
      if (node && typeof node === 'object' && 'range' in node) last = node as Node;
    } else break;
  }
  const offset = last?.range?.[0];
  return offset === undefined ? undefined : counter.linePos(offset).line;
}

function zodIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...path, key], message: 'unknown key' }));
    }
    return [{ path, message: issue.message }];
  });
}

/** Replaces `url_file` / `username_file` / `password_file` / `http.auth.*_file` with the (trimmed) file contents. */
function resolveSecretFiles(config: Config, base: string, read: (p: string) => string, issues: ConfigIssue[]): void {
  const load = (path: (string | number)[], file: string): string | undefined => {
    try {
      return read(resolve(base, file)).trim();
    } catch (e) {
      issues.push({ path, message: `${resolve(base, file)}: ${readFailure(e)}` });
      return undefined;
    }
  };
  config.cameras.forEach((camera, i) => {
    if (camera.url_file !== undefined) {
      const path = ['cameras', i, 'url_file'];
      camera.url = load(path, camera.url_file);
      // The schema checked inline URLs; one read from a file gets the same check.
      const why = camera.url === undefined ? undefined : cameraUrlProblem(camera.url);
      if (why !== undefined) issues.push({ path, message: `${resolve(base, camera.url_file)}: ${why}` });
      delete camera.url_file;
    }
  });
  for (const key of ['username', 'password'] as const) {
    const file = config.mqtt[`${key}_file`];
    if (file !== undefined) {
      config.mqtt[key] = load(['mqtt', `${key}_file`], file);
      delete config.mqtt[`${key}_file`];
    }
  }
  const auth = config.http.auth;
  for (const key of ['token', 'credentials'] as const) {
    const file = auth[`${key}_file`];
    if (file === undefined) continue;
    const path = ['http', 'auth', `${key}_file`];
    auth[key] = load(path, file);
    delete auth[`${key}_file`];
    // The file's contents get the checks an inline value gets (never quoting the secret).
    const value = auth[key];
    if (value === undefined) continue;
    if (key === 'token' && value.length < 16) issues.push({ path, message: `${resolve(base, file)}: the token must be at least 16 characters` });
    if (key === 'credentials' && !/^[^:\n]+:[^\n]+$/.test(value)) issues.push({ path, message: `${resolve(base, file)}: must hold one line USER:PASSWORD` });
  }
}

/** Paths in the config are relative to the config file's folder, not to the working directory. */
function resolvePaths(config: Config, base: string): void {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  if (config.model) {
    config.model.bundle = abs(config.model.bundle);
    config.model.tensorrt.engine_cache_dir = abs(config.model.tensorrt.engine_cache_dir);
  }
  config.labels.files = config.labels.files.map(abs);
  for (const camera of config.cameras) {
    if (camera.labels?.files) camera.labels.files = camera.labels.files.map(abs);
    for (const region of camera.regions) if (region.labels?.files) region.labels.files = region.labels.files.map(abs);
  }
  config.labels.cache_dir = abs(config.labels.cache_dir);
  config.mqtt.spool.dir = abs(config.mqtt.spool.dir);
  config.events.path = abs(config.events.path);
  const tls = config.mqtt.tls;
  if (tls) for (const k of ['ca', 'cert', 'key'] as const) if (tls[k]) tls[k] = abs(tls[k]);
}

/** Parses config text; throws ConfigError listing every problem. */
export function parseConfig(text: string, options: ParseOptions): Config {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      options.file,
      doc.errors.map((e) => ({ path: [], message: `YAML: ${e.message.split('\n')[0]}`, line: counter.linePos(e.pos[0]).line })),
    );
  }
  let raw: unknown;
  try {
    // The yaml package refuses documents whose aliases expand without bound (a "billion laughs").
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    throw new ConfigError(options.file, [{ path: [], message: `YAML: ${(e as Error).message}` }]);
  }
  const { value, issues } = substituteEnv(raw, options.env ?? process.env);
  const parsed = configSchema.safeParse(value);
  if (!parsed.success) {
    // A missing variable already explains why the value it was in is invalid.
    const explained = new Set(issues.map((i) => formatPath(i.path)));
    issues.push(...zodIssues(parsed.error).filter((i) => !explained.has(formatPath(i.path))));
  }
  const base = dirname(resolve(options.file));
  if (parsed.success && issues.length === 0) {
    resolveSecretFiles(parsed.data, base, options.readSecret ?? readTextFile, issues);
  }
  if (issues.length > 0 || !parsed.success) {
    const located = issues.map((i) => ({ ...i, line: i.line ?? locate(doc, counter, i.path) }));
    throw new ConfigError(options.file, located.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
  }
  resolvePaths(parsed.data, base);
  return parsed.data;
}

/** Reads and parses a config file; a missing or unreadable file is a config error too. */
export function loadConfigFile(file: string, env?: ParseOptions['env']): Config {
  let text: string;
  try {
    text = readTextFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new MstaError(code === 'ENOENT' ? 'CONFIG_NOT_FOUND' : 'CONFIG_UNREADABLE', readFailure(e), { where: e instanceof TextEncodingError ? `${file}:${e.line}` : file });
  }
  return parseConfig(text, { file, env });
}

/** The config with every default, as `run` with no config file uses it. */
export function defaultConfig(): Config {
  return parseConfig('{}', { file: resolve('msta-edge.yaml'), env: {} });
}
