// Label sets: names to prompt words, label files (text and YAML) with errors naming file:line,
// duplicates and empty sets, the real Kinetics / UCF-101 / HMDB-51 lists, and the label embedding
// (normalised mean of prompt embeddings).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildLabelSet, fillTemplate, inlineActions, labelSetPrompts, labelWords, type LocatedAction } from '../src/recognize/label-set.js';
import { parseLabelText, parseLabelYaml, readLabelFile } from '../src/recognize/label-files.js';
import { labelEmbeddings, normalizedMean } from '../src/recognize/label-embedding.js';
import { ClipTokenizer } from '../src/model/clip-tokenizer.js';
import { loadClipVocab } from '../src/model/clip-vocab.js';
import { isMstaError } from '../src/errors.js';
import { tempDir } from './support/temp-dir.js';

const LABELS = '../shared/labels';
const VOCAB = '../shared/clip/bpe_simple_vocab_16e6.txt.gz';
const needLabels = existsSync(LABELS) ? {} : { skip: `missing ${LABELS} (shared test data)` };
const TEMPLATE = 'a video of {}.';

const inline = (...names: string[]): LocatedAction[] => inlineActions(names, 'labels.actions');

function labelsError(where: string, message: RegExp) {
  return (e: unknown) => isMstaError(e, 'LABELS_INVALID') && e.where === where && message.test(e.message);
}

test('label names become prompt words', () => {
  const cases: [string, string][] = [
    ['ApplyEyeMakeup', 'apply eye makeup'],
    ['YoYo', 'yo yo'],
    ['HandstandPushups', 'handstand pushups'],
    ['TVShow', 'tv show'],
    ['Top10Moves', 'top10 moves'],
    ['brush_hair', 'brush hair'],
    ['shoot__ball', 'shoot ball'],
    ['abseiling', 'abseiling'],
    ['passing American football (in game)', 'passing American football (in game)'],
    ['  massaging   person\'s head ', "massaging person's head"],
  ];
  for (const [name, words] of cases) assert.equal(labelWords(name), words, name);
  assert.equal(fillTemplate('a video of {}.', 'brush hair'), 'a video of brush hair.');
});

test('a label set keeps names for events and builds prompts from words and descriptions', () => {
  const set = buildLabelSet(TEMPLATE, [
    { action: { name: 'ApplyEyeMakeup' }, where: 'f.txt:1' },
    { action: { name: 'brush_hair', descriptions: ['a person moves a brush through long hair'], threshold: 0.7 }, where: 'f.yaml:3' },
  ]);
  assert.deepEqual(set.labels, [
    { name: 'ApplyEyeMakeup', words: 'apply eye makeup', prompts: ['a video of apply eye makeup.'], where: 'f.txt:1' },
    {
      name: 'brush_hair',
      words: 'brush hair',
      prompts: ['a video of brush hair.', 'a person moves a brush through long hair'],
      threshold: 0.7,
      where: 'f.yaml:3',
    },
  ]);
  assert.equal(set.background, undefined);
  assert.deepEqual(labelSetPrompts(set), ['a video of apply eye makeup.', 'a video of brush hair.', 'a person moves a brush through long hair']);
});

test('inline actions: names or objects, located by index', () => {
  assert.deepEqual(inlineActions(['wave', { name: 'clap', threshold: 0.5 }], '--labels'), [
    { action: { name: 'wave' }, where: '--labels[0]' },
    { action: { name: 'clap', threshold: 0.5 }, where: '--labels[1]' },
  ]);
  assert.throws(() => buildLabelSet(TEMPLATE, inlineActions(['wave', 'wave'], 'labels.actions')), labelsError('labels.actions[1]', /duplicate label "wave" \(also at labels\.actions\[0\]\)/));
});

test('a background label is added when not listed and its index given', () => {
  const added = buildLabelSet(TEMPLATE, inline('wave', 'clap'), { background: 'nothing happening' });
  assert.deepEqual(added.labels.map((l) => l.name), ['wave', 'clap', 'nothing happening']);
  assert.equal(added.background, 2);
  const listed = buildLabelSet(TEMPLATE, inline('idle', 'wave'), { background: 'idle' });
  assert.equal(listed.background, 0);
  assert.equal(listed.labels.length, 2);
});

test('bad label sets are refused naming where', () => {
  assert.throws(() => buildLabelSet(TEMPLATE, []), labelsError('labels', /label set is empty/));
  assert.throws(() => buildLabelSet(TEMPLATE, [], { background: 'idle' }), labelsError('labels', /empty/));
  assert.throws(() => buildLabelSet('a video', inline('wave')), labelsError('labels.template', /must contain \{\}/));
  assert.throws(
    () => buildLabelSet(TEMPLATE, [{ action: { name: 'wave' }, where: 'a.txt:2' }, { action: { name: 'wave' }, where: 'b.txt:7' }]),
    labelsError('b.txt:7', /duplicate label "wave" \(also at a\.txt:2\)/),
  );
  assert.throws(
    () => buildLabelSet(TEMPLATE, [{ action: { name: 'brush_hair' }, where: 'h.txt:1' }, { action: { name: 'BrushHair' }, where: 'u.txt:9' }]),
    labelsError('u.txt:9', /reads the same as "brush_hair" at h\.txt:1/),
  );
  assert.throws(() => buildLabelSet(TEMPLATE, [{ action: { name: '  ' }, where: 'x:1' }]), labelsError('x:1', /empty label name/));
  assert.throws(() => buildLabelSet(TEMPLATE, [{ action: { name: 'a', threshold: 1.5 }, where: 'x:2' }]), labelsError('x:2', /threshold must be between 0 and 1/));
  assert.throws(() => buildLabelSet(TEMPLATE, [{ action: { name: 'a', descriptions: [' '] }, where: 'x:3' }]), labelsError('x:3', /empty description/));
});

test('plain-text label files: one per line, blank lines and # comments skipped, lines numbered', () => {
  const actions = parseLabelText('# UCF subset\nApplyEyeMakeup\n\n  # indented comment\n  Archery  \r\nYoYo', 'ucf.txt');
  assert.deepEqual(actions, [
    { action: { name: 'ApplyEyeMakeup' }, where: 'ucf.txt:2' },
    { action: { name: 'Archery' }, where: 'ucf.txt:5' },
    { action: { name: 'YoYo' }, where: 'ucf.txt:6' },
  ]);
});

const YAML = `# actions with spatio-temporal descriptions
- waving
- name: brush_hair
  descriptions:
    - a hand moves a brush down the hair again and again
  threshold: 0.55
- {name: clap}
`;

test('YAML label files: names or {name, descriptions, threshold}, each at its line', () => {
  assert.deepEqual(parseLabelYaml(YAML, 'a.yaml'), [
    { action: { name: 'waving' }, where: 'a.yaml:2' },
    { action: { name: 'brush_hair', descriptions: ['a hand moves a brush down the hair again and again'], threshold: 0.55 }, where: 'a.yaml:3' },
    { action: { name: 'clap' }, where: 'a.yaml:7' },
  ]);
});

test('bad YAML label files name the file and line', () => {
  const bad: [string, string, RegExp][] = [
    ['- wave\n- name: clap\n  threshold: high\n', 'b.yaml:3', /action 2 threshold: .*number/i],
    ['- wave\n- name: clap\n  colour: red\n', 'b.yaml:2', /action 2: .*colour/],
    ['- wave\n- name: clap\n  descriptions: ["ok", ""]\n', 'b.yaml:3', /action 2 descriptions\.1: empty description/],
    ['- wave\n- [1, 2]\n', 'b.yaml:2', /action 2: expected a name, or \{name, descriptions, threshold\}/],
    ['wave: {}\n', 'b.yaml:1', /unknown key "wave"/],
    ['actions: {}\n', 'b.yaml:1', /must be a list of actions/],
    ['- wave\n- [clap\n', 'b.yaml:3', /not valid YAML/],
    ['- wave\n- "  "\n', 'b.yaml:2', /action 2: empty label name/],
  ];
  for (const [text, where, message] of bad) assert.throws(() => parseLabelYaml(text, 'b.yaml'), labelsError(where, message), text);
});

test('label files are read by extension; a missing one is a clear error', () => {
  const dir = tempDir('msta-labels-');
  try {
    writeFileSync(join(dir, 'l.yml'), YAML);
    writeFileSync(join(dir, 'l.txt'), 'a: b\n- c\n');
    assert.equal(readLabelFile(join(dir, 'l.yml')).length, 3);
    assert.deepEqual(readLabelFile(join(dir, 'l.txt')).map((a) => a.action.name), ['a: b', '- c']);
    const missing = join(dir, 'none.txt');
    assert.throws(() => readLabelFile(missing), labelsError(missing, /label file: no such file/));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the real label lists load as label sets', needLabels, () => {
  const expected: [string, number, string, string][] = [
    ['kinetics400.txt', 400, 'passing American football (not in game)', 'a video of passing American football (not in game).'],
    ['kinetics600.txt', 600, 'abseiling', 'a video of abseiling.'],
    ['kinetics700.txt', 700, "massaging person's head", "a video of massaging person's head."],
    ['ucf101.txt', 101, 'ApplyEyeMakeup', 'a video of apply eye makeup.'],
    ['hmdb51.txt', 51, 'brush_hair', 'a video of brush hair.'],
  ];
  for (const [file, count, name, prompt] of expected) {
    const set = buildLabelSet(TEMPLATE, readLabelFile(join(LABELS, file)));
    assert.equal(set.labels.length, count, file);
    const label = set.labels.find((l) => l.name === name);
    assert.ok(label, `${file} has ${name}`);
    assert.deepEqual(label.prompts, [prompt]);
    assert.match(label.where, new RegExp(`${file}:\\d+$`));
  }
});

test('every Kinetics-700 prompt fits CLIP\'s 77-token context', existsSync(VOCAB) && existsSync(LABELS) ? {} : { skip: `missing ${VOCAB} or ${LABELS}` }, () => {
  const tokenizer = new ClipTokenizer(loadClipVocab(VOCAB));
  const set = buildLabelSet(TEMPLATE, readLabelFile(join(LABELS, 'kinetics700.txt')));
  const lengths = labelSetPrompts(set).map((p) => tokenizer.tokenize(p).length);
  assert.equal(lengths.length, 700);
  assert.ok(Math.max(...lengths) <= 77, `longest prompt is ${Math.max(...lengths)} tokens`);
});

const close = (actual: Float32Array, expected: number[]) => {
  assert.equal(actual.length, expected.length);
  actual.forEach((x, i) => assert.ok(Math.abs(x - expected[i]!) < 1e-6, `[${i}] ${x} vs ${expected[i]}`));
};

test('a label embedding is the normalised mean of its prompt embeddings', () => {
  close(normalizedMean([Float32Array.of(3, 4)]), [0.6, 0.8]);
  // mean of (1,0) and (0,1) is (0.5,0.5); normalised: (1/sqrt2, 1/sqrt2)
  close(normalizedMean([Float32Array.of(1, 0), Float32Array.of(0, 1)]), [Math.SQRT1_2, Math.SQRT1_2]);
  // mean of (1,0,0), (0,1,0), (0,0,-1) = (1,1,-1)/3 -> (1,1,-1)/sqrt3
  const s = 1 / Math.sqrt(3);
  close(normalizedMean([Float32Array.of(1, 0, 0), Float32Array.of(0, 1, 0), Float32Array.of(0, 0, -1)]), [s, s, -s]);
  assert.throws(() => normalizedMean([Float32Array.of(1, 0), Float32Array.of(-1, 0)]), /zero vector/);
  assert.throws(() => normalizedMean([Float32Array.of(1, 0), Float32Array.of(1)]), /length 1, expected 2/);
});

test('label embeddings come out row-major in label order', () => {
  const set = buildLabelSet('{}', [
    { action: { name: 'b', descriptions: ['b2'] }, where: 'x:1' },
    { action: { name: 'a' }, where: 'x:2' },
  ]);
  const prompts = new Map([
    ['a', Float32Array.of(0, 2)],
    ['b', Float32Array.of(1, 0)],
    ['b2', Float32Array.of(0, 1)],
  ]);
  close(labelEmbeddings(set, prompts, 2), [Math.SQRT1_2, Math.SQRT1_2, 0, 1]);
  assert.throws(() => labelEmbeddings(set, new Map([['a', Float32Array.of(0, 1)]]), 2), /no embedding for prompt "b" of label "b"/);
  const cancelling = new Map([...prompts, ['b2', Float32Array.of(-1, 0)]]);
  assert.throws(() => labelEmbeddings(set, cancelling, 2), /label "b": the mean is the zero vector/);
});

test('a YAML label file may carry its own template: {template, actions}', () => {
  const actions = parseLabelYaml('template: a store camera shows {}.\nactions:\n  - name: shoplifting\n    descriptions: [a person hides an item]\n  - falling\n', 'retail.yaml');
  assert.deepEqual(actions.map((a) => a.where), ['retail.yaml:3', 'retail.yaml:5']);
  const set = buildLabelSet('a video of {}.', [...actions, { action: { name: 'waving' }, where: 'labels.actions[0]' }]);
  assert.deepEqual(set.labels.map((l) => l.prompts[0]), ['a store camera shows shoplifting.', 'a store camera shows falling.', 'a video of waving.']);
  assert.throws(() => parseLabelYaml('template: no placeholder\nactions: [a]\n', 'x.yaml'), /x\.yaml:1: template must be text containing \{\}/);
  assert.throws(() => parseLabelYaml('actons: [a]\n', 'x.yaml'), /unknown key "actons"/);
});

test('every label set in configs/labels loads through the real label-file reader', () => {
  for (const f of readdirSync('configs/labels')) {
    const set = buildLabelSet('a video of {}.', readLabelFile(`configs/labels/${f}`));
    assert.ok(set.labels.length >= 5, f);
    assert.ok(set.labels.every((l) => l.prompts.length >= 2), `${f}: every action has descriptions`);
  }
});
