import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseConfig, loadConfigFile } from '../src/config/load-config.js';
import { ConfigError } from '../src/config/config-error.js';
import { substituteEnv } from '../src/config/substitute-env.js';
import { configJsonSchema } from '../src/config/json-schema.js';
import { isMstaError } from '../src/errors.js';
import { runCliProcess } from './support/cli.js';
import { tempDir } from './support/temp-dir.js';

const FILE = '/etc/msta-edge/config.yaml';

function issuesOf(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, { file: FILE, env });
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.issues.map((i) => `${i.path.join('/')}@${i.line ?? '?'}: ${i.message}`);
  }
  return [];
}

test('an empty config takes every default', () => {
  const config = parseConfig('', { file: FILE, env: {} });
  assert.deepEqual(config.cameras, []);
  assert.equal(config.mqtt.base_topic, 'msta');
  assert.equal(config.mqtt.protocol_version, 5);
  assert.equal(config.recognition.stride, 4);
  assert.equal(config.http.listen, '127.0.0.1:9464');
  assert.equal(config.shutdown_timeout_s, 5);
  assert.equal(config.mqtt.spool.dir, '/etc/msta-edge/.cache/spool', 'relative paths resolve against the config folder');
});

test('a full camera entry is read with defaults filled in and paths resolved', () => {
  const config = parseConfig(
    `cameras:\n  - id: front_door\n    url: rtsp://cam.local/stream\n    transport: udp\nmodel:\n  bundle: ../models/x\n  providers: [cuda, cpu]\nlabels:\n  files: [labels/home.yaml]\n  actions:\n    - a person falling\n    - name: climbing a fence\n      descriptions: [someone climbs over a fence]\n      threshold: 0.7\n`,
    { file: FILE, env: {} },
  );
  assert.deepEqual(config.cameras[0], {
    id: 'front_door', url: 'rtsp://cam.local/stream', transport: 'udp', latency_ms: 200, decoder: 'auto', loop: false, enabled: true,
    snapshots: { enabled: false, width: 640, quality: 80, fps: 2 },
    crop: 'center', masks: [], regions: [],
  });
  assert.equal(config.model?.bundle, '/etc/models/x');
  assert.deepEqual(config.model?.providers, ['cuda', 'cpu']);
  assert.deepEqual(config.labels.files, ['/etc/msta-edge/labels/home.yaml']);
  assert.deepEqual(config.labels.actions[1], { name: 'climbing a fence', descriptions: ['someone climbs over a fence'], threshold: 0.7 });
});

test('every error is reported with its YAML path and line, not just the first', () => {
  const issues = issuesOf(
    'cameras:\n  - id: "a/b"\n    url: rtsp://x/y\n    colour: red\n  - id: yard\n    url: not a url\n  - id: yard\n    url: rtsp://z\nrecognition:\n  start: 0.3\n  end: 0.5\nmqt:\n  url: x\n',
  );
  assert.deepEqual(issues.map((i) => i.split(':')[0]), [
    'cameras/0/id@2', 'cameras/0/colour@4', 'cameras/1/url@6', 'cameras/2/id@7', 'recognition/end@11', 'mqt@12',
  ]);
  assert.match(issues[1]!, /unknown key/);
  assert.match(issues[3]!, /duplicate camera id "yard"/);
});

test('YAML syntax errors and wrong types are config errors with a line', () => {
  assert.match(issuesOf('cameras: [\n')[0]!, /@\d+: YAML:/);
  assert.match(issuesOf('cameras: 3\n')[0]!, /^cameras@1: .*expected array/);
});

test('${ENV} substitution works in values, with defaults and $${ escapes, and never in structure', () => {
  const { value, issues } = substituteEnv(
    { a: 'rtsp://u:${PW}@h/', b: ['${MISSING:-fallback}', '$${LITERAL}'], c: 3, d: '${UNSET}' },
    { PW: 'p: [x]' },
  );
  assert.deepEqual(value, { a: 'rtsp://u:p: [x]@h/', b: ['fallback', '${LITERAL}'], c: 3, d: '' });
  assert.deepEqual(issues.map((i) => i.path), [['d']]);
  const config = parseConfig('cameras:\n  - id: c1\n    url: rtsp://admin:${CAM_PW}@cam/s\n', { file: FILE, env: { CAM_PW: 'hunter2' } });
  assert.equal(config.cameras[0]?.url, 'rtsp://admin:hunter2@cam/s');
  assert.match(issuesOf('mqtt:\n  url: ${BROKER}\n')[0]!, /^mqtt\/url@2: environment variable BROKER is not set/);
});

test('*_file secrets are read from files relative to the config, and an unreadable one is named', () => {
  const dir = tempDir('msta-config-');
  writeFileSync(join(dir, 'pw'), 's3cret\n');
  writeFileSync(join(dir, 'cam'), 'rtsp://admin:camsecret@cam/s\n');
  const config = parseConfig('cameras:\n  - id: c1\n    url_file: cam\nmqtt:\n  username: msta\n  password_file: pw\n', { file: join(dir, 'c.yaml'), env: {} });
  assert.equal(config.mqtt.password, 's3cret');
  assert.equal('password_file' in config.mqtt, false);
  assert.equal(config.cameras[0]?.url, 'rtsp://admin:camsecret@cam/s');
  assert.throws(
    () => parseConfig('mqtt:\n  password_file: nope\n', { file: join(dir, 'c.yaml'), env: {} }),
    (e: unknown) => e instanceof ConfigError && /mqtt\.password_file: .*nope: no such file \(line 2\)/.test(e.message),
  );
  assert.match(issuesOf('mqtt:\n  password: a\n  password_file: b\n')[0]!, /give password or password_file, not both/);
  assert.match(issuesOf('cameras:\n  - id: c\n')[0]!, /give exactly one of url and url_file/);
});

test('a missing config file is a CONFIG_NOT_FOUND error naming the file', () => {
  assert.throws(() => loadConfigFile('/nonexistent/msta.yaml'), (e: unknown) => isMstaError(e, 'CONFIG_NOT_FOUND') && e.message.includes('/nonexistent/msta.yaml'));
});

test('the JSON Schema accepts what the config accepts and rejects unknown keys', () => {
  const ajv = new Ajv2020({ strict: false });
  const validate = ajv.compile(configJsonSchema());
  assert.equal(validate({ cameras: [{ id: 'c1', url: 'rtsp://h/s' }], mqtt: { url: 'mqtt://localhost' } }), true, JSON.stringify(validate.errors));
  assert.equal(validate({ cameras: [{ id: 'c1', url: 'rtsp://h/s', colour: 'red' }] }), false);
  assert.equal(validate({ recognition: { stride: 0 } }), false);
});

test('every example config in configs/ is valid', () => {
  const examples = readdirSync('configs').filter((f) => /^msta-edge.*\.ya?ml$/.test(f));
  for (const f of examples) loadConfigFile(join('configs', f), { CAMERA_PASSWORD: 'x', MQTT_PASSWORD: 'y' });
});

test('check-config exits 0 on a valid file and 2 listing every error, without a stack trace', async () => {
  const dir = tempDir('msta-config-');
  writeFileSync(join(dir, 'ok.yaml'), 'cameras:\n  - id: c1\n    url: rtsp://admin:hunter2@cam/s\n');
  writeFileSync(join(dir, 'bad.yaml'), 'cameras:\n  - id: c1\n    urll: rtsp://cam/s\nhttp:\n  listen: nowhere\n');
  const ok = await runCliProcess(['check-config', '--config', join(dir, 'ok.yaml')]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /ok, 1 camera/);
  assert.doesNotMatch(ok.stdout, /hunter2/, 'passwords are never printed');
  const bad = await runCliProcess(['check-config', '--config', join(dir, 'bad.yaml')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /cameras\[0\]\.urll: unknown key \(line 3\)/);
  assert.match(bad.stderr, /cameras\[0\]: give exactly one of url and url_file/);
  assert.match(bad.stderr, /http\.listen: must be HOST:PORT.*\(line 5\)/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
  const missing = await runCliProcess(['check-config', '--config', join(dir, 'none.yaml')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /none\.yaml: no such file/);
  const schema = await runCliProcess(['schema']);
  assert.equal(schema.code, 0);
  assert.equal(JSON.parse(schema.stdout).title, 'msta-edge configuration');
});
