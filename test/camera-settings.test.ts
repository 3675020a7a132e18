// Per-camera labels and recognition merged over the global ones: the merge rule, the override
// schemas (no defaults of their own), the global checks on the merge with the camera's path, and
// check-config naming the camera's block for its own label file and recognition values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ConfigError } from '../src/config/config-error.js';
import { effectiveSettings, hasOwnLabels } from '../src/config/effective-settings.js';
import { configJsonSchema } from '../src/config/json-schema.js';
import { parseConfig } from '../src/config/load-config.js';
import { labelsOverride, recognitionOverride } from '../src/config/schema.js';
import { prepareConfig } from '../src/daemon/validate-config.js';
import { labelSetKey } from '../src/daemon/recognizer.js';
import { runCliProcess } from './support/cli.js';
import { tempDir } from './support/temp-dir.js';

const FILE = '/etc/msta-edge/config.yaml';
const parse = (text: string) => parseConfig(text, { file: FILE, env: {} });

function issuesOf(text: string): string[] {
  try {
    parse(text);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues.map((i) => `${i.path.join('/')}@${i.line ?? '?'}: ${i.message}`);
  }
  return [];
}

test('an override holds only the keys written: no defaults filled in, nested motion_gate included', () => {
  assert.deepEqual(recognitionOverride.parse({}), {});
  assert.deepEqual(recognitionOverride.parse({ start: 0.7, motion_gate: { enabled: true } }), { start: 0.7, motion_gate: { enabled: true } });
  assert.deepEqual(labelsOverride.parse({ background: 'nothing' }), { background: 'nothing' });
  // The global fields' own checks still apply, and strictness.
  assert.equal(recognitionOverride.safeParse({ start: 2 }).success, false);
  assert.equal(recognitionOverride.safeParse({ strid: 2 }).success, false);
  assert.equal(labelsOverride.safeParse({ template: 'no placeholder' }).success, false);
  // Global only: one label cache, one stride-adapting timer.
  assert.equal(labelsOverride.safeParse({ cache_dir: '/x' }).success, false);
  assert.equal(recognitionOverride.safeParse({ adapt_interval_s: 1 }).success, false);
});

test('recognition merges key by key (motion_gate too); a camera naming files or actions replaces the global label list whole', () => {
  const config = parse(
    [
      'recognition: { start: 0.7, end: 0.5, motion_gate: { enabled: true, threshold: 1 } }',
      'labels: { files: [global.txt], actions: [waving], background: nothing happening, template: "a video of {}." }',
      'cameras:',
      '  - id: plain',
      '    url: test://smpte',
      '  - id: own',
      '    url: test://smpte',
      '    recognition: { start: 0.9, motion_gate: { threshold: 5 } }',
      '    labels: { actions: [falling down] }',
      '',
    ].join('\n'),
  );
  const [plain, own] = config.cameras;
  const p = effectiveSettings(config, plain!);
  assert.deepEqual(p, { labels: config.labels, recognition: config.recognition }, 'no override: the global settings');
  const o = effectiveSettings(config, own!);
  assert.deepEqual(o.recognition, { ...config.recognition, start: 0.9, motion_gate: { enabled: true, threshold: 5 } });
  // The label list replaced whole (not appended: no global file either); background, template and the cache kept.
  assert.deepEqual(o.labels, { ...config.labels, actions: ['falling down'], files: [] });
  assert.equal(o.labels.background, 'nothing happening');
  const filesOnly = effectiveSettings(config, { labels: { files: ['/cam.txt'] } }).labels;
  assert.deepEqual([filesOnly.files, filesOnly.actions], [['/cam.txt'], []], 'files alone: no global inline actions');
  assert.equal(effectiveSettings(config, { labels: { background: 'idle' } }).labels.actions, config.labels.actions, 'no list named: the global list');
  assert.equal(hasOwnLabels(plain!), false);
  assert.equal(hasOwnLabels(own!), true);
  // Pure: the inputs are untouched.
  assert.equal(config.recognition.start, 0.7);
  assert.deepEqual(config.labels.actions, ['waving']);
});

test('a region override goes over its camera, which goes over the global settings', () => {
  const config = parse('recognition: { start: 0.7, end: 0.5 }\ncameras:\n  - id: c\n    url: test://smpte\n    recognition: { start: 0.8, min_clips: 3 }\n    labels: { files: [cam.txt] }\n');
  const camera = config.cameras[0]!;
  const s = effectiveSettings(config, camera, { recognition: { start: 0.95 }, labels: { actions: ['in bed'], files: [] } });
  assert.equal(s.recognition.start, 0.95);
  assert.equal(s.recognition.min_clips, 3, "the camera's key where the region says nothing");
  assert.equal(s.recognition.end, 0.5);
  assert.deepEqual(s.labels.files, []);
  assert.deepEqual(s.labels.actions, ['in bed']);
  assert.deepEqual(effectiveSettings(config, camera, {}), effectiveSettings(config, camera));
});

test("a camera's label files resolve against the config's folder", () => {
  const config = parse('cameras:\n  - id: c\n    url: test://smpte\n    labels: { files: [labels/kitchen.txt, /abs/x.txt] }\n');
  assert.deepEqual(config.cameras[0]!.labels?.files, ['/etc/msta-edge/labels/kitchen.txt', '/abs/x.txt']);
});

test("the merged recognition gets the global checks, reported at the camera's path and line", () => {
  const issues = issuesOf(
    [
      'recognition: { start: 0.6, end: 0.4 }',
      'cameras:',
      '  - id: a',
      '    url: test://smpte',
      '  - id: b',
      '    url: test://smpte',
      '    recognition:',
      '      end: 0.7',
      '  - id: c',
      '    url: test://smpte',
      '    recognition:',
      '      stride: 64',
      '      start: 1.5',
      '',
    ].join('\n'),
  );
  // Camera c: its bad start once, and the merge's own check (stride 64 over the global stride_max 32).
  assert.deepEqual(issues.map((i) => i.split(':')[0]), ['cameras/1/recognition/end@8', 'cameras/2/recognition/stride_max@11', 'cameras/2/recognition/start@13']);
  assert.match(issues[0]!, /end must not be above start/);
  // Once start is valid, the merge's stride check names the camera's stride_max.
  const more = issuesOf('cameras:\n  - id: c\n    url: test://smpte\n    recognition:\n      stride: 64\n');
  assert.deepEqual(more, ['cameras/0/recognition/stride_max@4: must not be below stride']);
});

test('the JSON Schema offers labels and recognition per camera, without defaults there', () => {
  const schema = configJsonSchema();
  const ajv = new Ajv2020({ strict: false });
  const validate = ajv.compile(schema);
  assert.equal(validate({ cameras: [{ id: 'c', url: 'test://smpte', labels: { actions: ['x'] }, recognition: { start: 0.7, motion_gate: { enabled: true } } }] }), true, JSON.stringify(validate.errors));
  assert.equal(validate({ cameras: [{ id: 'c', url: 'test://smpte', labels: { cache_dir: 'x' } }] }), false);
  assert.equal(validate({ cameras: [{ id: 'c', url: 'test://smpte', recognition: { start: 3 } }] }), false);
  const camera = (schema as { properties: { cameras: { items: { properties: Record<string, { properties: Record<string, unknown> }> } } } }).properties.cameras.items.properties;
  const { actions: _actions, ...labelFields } = camera.labels!.properties;
  assert.doesNotMatch(JSON.stringify(camera.recognition), /"default"/, 'a camera override has no defaults of its own');
  assert.doesNotMatch(JSON.stringify(labelFields), /"default"/);
  assert.match(JSON.stringify(camera.recognition), /smoothed score at which an action starts/, 'the global descriptions are kept');
});

test('prepareConfig: cameras with equal label sets share one set by content; a camera without labels has the global set', async () => {
  const dir = tempDir('msta-percam-');
  writeFileSync(join(dir, 'fall.txt'), 'falling down\n');
  const config = parse(
    [
      'labels: { actions: [waving] }',
      'cameras:',
      '  - { id: a, url: test://smpte }',
      `  - { id: b, url: test://smpte, labels: { files: [${join(dir, 'fall.txt')}] } }`,
      '  - { id: c, url: test://smpte, labels: { actions: [falling down] } }',
      '  - { id: d, url: test://smpte, labels: { actions: [waving] } }',
      '',
    ].join('\n'),
  );
  const prepared = await prepareConfig(config, 'test');
  const sets = prepared.cameraLabelSets;
  assert.equal(sets.get('a'), prepared.labelSet);
  assert.deepEqual(sets.get('b')!.labels.map((l) => l.name), ['falling down']);
  // Written differently (a file, inline), the same content: one key, so one embedding.
  assert.equal(labelSetKey(sets.get('b')!), labelSetKey(sets.get('c')!));
  assert.equal(labelSetKey(sets.get('d')!), labelSetKey(prepared.labelSet));
  assert.notEqual(labelSetKey(sets.get('a')!), labelSetKey(sets.get('b')!));
});

test("check-config exits 2 naming the camera's block: its own label file, and its recognition values", async () => {
  const dir = tempDir('msta-percam-');
  writeFileSync(join(dir, 'ok.txt'), 'falling down\n');
  const files = join(dir, 'files.yaml');
  writeFileSync(
    files,
    [
      'labels: { files: [ok.txt] }',
      'cameras:',
      '  - id: hall',
      '    url: test://smpte',
      '  - id: bedroom',
      '    url: test://smpte',
      '    labels:',
      '      files: [missing.txt]',
      '',
    ].join('\n'),
  );
  const bad = await runCliProcess(['check-config', '--config', files]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /cameras\[1\]\.labels: .*missing\.txt/);
  assert.doesNotMatch(bad.stderr, /^\s*labels: /m, 'the global labels are fine');
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');

  const values = join(dir, 'values.yaml');
  writeFileSync(values, 'cameras:\n  - id: hall\n    url: test://smpte\n  - id: bedroom\n    url: test://smpte\n    recognition:\n      start: 0.3\n');
  const wrong = await runCliProcess(['check-config', '--config', values]);
  assert.equal(wrong.code, 2, wrong.stderr);
  assert.match(wrong.stderr, /cameras\[1\]\.recognition\.end: end must not be above start/);

  writeFileSync(values, 'cameras:\n  - id: hall\n    url: test://smpte\n    recognition:\n      start: 0.8\n      min_clips: 3\n    labels:\n      files: [ok.txt]\n');
  const ok = await runCliProcess(['check-config', '--config', values]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /ok, 1 camera\(s\): hall \(test:\/\/smpte, 1 label\(s\) of its own\)/);
});
