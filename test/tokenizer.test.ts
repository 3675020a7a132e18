// The CLIP tokenizer against CLIP's own ids (test/fixtures/clip-token-ids.json says where each
// expectation comes from), the vocabulary loader on the real and on small merges files, and the
// `tokenize` command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ClipTokenizer, cleanClipText, fitToContext, preTokenize } from '../src/model/clip-tokenizer.js';
import { CLIP_MAX_MERGES, loadClipVocab, parseClipVocab } from '../src/model/clip-vocab.js';
import { htmlUnescape } from '../src/model/html-unescape.js';
import { isMstaError } from '../src/errors.js';
import { tempDir } from './support/temp-dir.js';

const REAL_VOCAB = '../shared/clip/bpe_simple_vocab_16e6.txt.gz';
const haveVocab = existsSync(REAL_VOCAB);
const needVocab = haveVocab ? {} : { skip: `missing ${REAL_VOCAB} (shared test data)` };

interface Fixture {
  cases: { text: string; ids: number[]; source: string }[];
  same_ids: { texts: string[]; source: string }[];
  context: { texts: string[]; context_length: number; rows: number[][]; source: string }[];
}
const fixture = JSON.parse(readFileSync('test/fixtures/clip-token-ids.json', 'utf8')) as Fixture;
const real = haveVocab ? new ClipTokenizer(loadClipVocab(REAL_VOCAB)) : undefined;

test('the real vocabulary has CLIP\'s 49,408 tokens', needVocab, () => {
  const vocab = real!.vocab;
  assert.equal(vocab.merges, CLIP_MAX_MERGES);
  assert.equal(vocab.size, 49408);
  assert.equal(vocab.startOfText, 49406);
  assert.equal(vocab.endOfText, 49407);
  // First merge "i n" is id 512; the last used line ("jeky ll</w>") is id 49405.
  assert.equal(vocab.encoder.get('in'), 512);
  assert.equal(vocab.encoder.get('jekyll</w>'), 49405);
  assert.equal(vocab.encoder.get('habib</w>'), undefined, 'lines past CLIP\'s cap are not used');
});

for (const c of fixture.cases) {
  test(`CLIP ids for ${JSON.stringify(c.text.length > 40 ? `${c.text.slice(0, 40)}...` : c.text)} (${c.source})`, needVocab, () => {
    assert.deepEqual(real!.tokenize(c.text), c.ids);
  });
}

test('texts CLIP treats as the same text get the same ids', needVocab, () => {
  for (const { texts, source } of fixture.same_ids) {
    const [first, ...rest] = texts.map((t) => real!.tokenize(t));
    for (const other of rest) assert.deepEqual(other, first, source);
  }
});

test('model input rows: cut keeping the end token, zero padding (published rows)', needVocab, () => {
  for (const c of fixture.context) {
    assert.deepEqual(c.texts.map((t) => real!.inputIds(t, c.context_length)), c.rows, c.source);
  }
});

test('fitToContext keeps short inputs, pads with zeros and keeps the end token when cutting', () => {
  assert.deepEqual(fitToContext([9, 1, 2, 8], 4, 8), [9, 1, 2, 8]);
  assert.deepEqual(fitToContext([9, 1, 8], 5, 8), [9, 1, 8, 0, 0]);
  assert.deepEqual(fitToContext([9, 1, 2, 3, 8], 3, 8), [9, 1, 8]);
});

test('77-token rows for a long prompt end with the end token', needVocab, () => {
  const row = real!.inputIds('a video of '.repeat(40), 77);
  assert.equal(row.length, 77);
  assert.equal(row[0], 49406);
  assert.equal(row[76], 49407);
  assert.ok(!row.includes(0));
  assert.throws(() => real!.inputIds('x', 1), RangeError);
});

test('cleaning: ordinary text is only whitespace-collapsed and lower-cased (ftfy stand-in changes nothing)', () => {
  const ordinary = ['a video of brush hair.', 'massaging person\'s head', 'passing American football (not in game)', 'Ünïcödé café 生活 😊 ½'];
  for (const text of ordinary) assert.equal(cleanClipText(text), text.toLowerCase());
  assert.equal(cleanClipText('  Two\t\tWORDS \n'), 'two words');
  assert.equal(cleanClipText('a\u00a0b\u3000c\u2028d\u0085e\u001cf'), 'a b c d e f', "Python's whitespace set");
  assert.equal(cleanClipText('a\ufeffb'), 'a\ufeffb', 'U+FEFF is not whitespace to Python');
  assert.equal(cleanClipText('cafe\u0301'), 'caf\u00e9', 'NFC');
  assert.equal(cleanClipText('\u2018it\u2019s\u2019 \u201cok\u201d'), '\'it\'s\' "ok"', 'curly quotes straightened');
});

test('html unescape follows Python\'s html.unescape', () => {
  const cases: [string, string][] = [
    ['&amp;', '&'],
    ['&amp;amp;', '&amp;'],
    ['&lt;b&gt;', '<b>'],
    ['&#39;&#x27;&#X27;', "'''"],
    ['&eacute;&Eacute', 'éÉ'],
    ['&ampx', '&x'],
    ['&notit;', '¬it;'],
    ['&nosuch;', '&nosuch;'],
    ['&#128;&#x80;', '€€'],
    ['&#0;', '\uFFFD'],
    ['&#xD800;&#1114112;', '\uFFFD\uFFFD'],
    ['a&#1;b&#xFFFF;c', 'abc'],
    ['&#x1F600;', '😀'],
    ['&constructor;&__proto__;', '&constructor;&__proto__;'],
    ['no entities', 'no entities'],
    ['& amp;', '& amp;'],
  ];
  for (const [input, want] of cases) assert.equal(htmlUnescape(input), want, input);
});

test('pre-tokenizing splits like CLIP\'s pattern', () => {
  assert.deepEqual(preTokenize("don't 123 ab-cd!! <|endoftext|>x"), ['don', "'t", '1', '2', '3', 'ab', '-', 'cd', '!!', '<|endoftext|>', 'x']);
  assert.deepEqual(preTokenize('hi!<|endoftext|>'), ['hi', '!<|', 'endoftext', '|>']);
});

// A small merges file in CLIP's format, like a test bundle's (HuggingFace's CLIP tokenizer test
// vocabulary): all its merges are used, ids 512.. follow the file.
const SMALL = '#version: 0.2\nl o\nlo w</w>\ne r</w>\n';

test('a small vocabulary uses all its merges (HuggingFace\'s "lower newer" case)', () => {
  const vocab = parseClipVocab(SMALL, 'small.txt');
  assert.equal(vocab.merges, 3);
  assert.equal(vocab.size, 512 + 3 + 2);
  const tok = new ClipTokenizer(vocab);
  // lo=512, low</w>=513, er</w>=514; byte chars start at "!" (0x21): w=86, n=77, e=68.
  assert.deepEqual(tok.tokenize('lower newer'), [515, 512, 86, 514, 77, 68, 86, 514, 516]);
  assert.deepEqual(tok.tokenize('low'), [515, 513, 516]);
});

test('vocabulary files: gzipped and plain load the same; bad ones fail naming the file', () => {
  const dir = tempDir('msta-vocab-');
  try {
    const gz = join(dir, 'v.txt.gz');
    const plain = join(dir, 'v.txt');
    writeFileSync(gz, gzipSync(SMALL));
    writeFileSync(plain, SMALL);
    assert.deepEqual([...loadClipVocab(gz).encoder], [...loadClipVocab(plain).encoder]);

    const bad: [string, string | Buffer, RegExp][] = [
      ['missing.gz', '', /missing\.gz: cannot read the tokenizer vocabulary: ENOENT/],
      ['truncated.gz', gzipSync(SMALL).subarray(0, 12), /truncated\.gz: not a readable gzip file/],
      ['binary.bin', Buffer.from([0xff, 0xfe, 0x00, 0x81]), /binary\.bin: not UTF-8/],
      ['empty.txt', '', /empty\.txt: no merges/],
      ['three.txt', '#version: 0.2\nl o x\n', /three\.txt:2: expected a merge/],
      ['unknown.txt', '#version: 0.2\nl o\nlox w\n', /unknown\.txt:3: merge uses the unknown symbol "lox"/],
      ['blank.txt', '#version: 0.2\nl o\n\ne r\n', /blank\.txt:3: expected a merge/],
    ];
    for (const [name, content, message] of bad) {
      const file = join(dir, name);
      if (name !== 'missing.gz') writeFileSync(file, content);
      assert.throws(() => loadClipVocab(file), (e) => isMstaError(e, 'VOCAB_INVALID') && message.test(e.message), name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function cli(args: string[], input: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/daemon/main.ts', ...args], { input, encoding: 'utf8' });
}

test('msta-edge tokenize prints one JSON array per stdin line', needVocab, () => {
  const r = cli(['tokenize', '--vocab', REAL_VOCAB], 'a photo of a cat\r\n\nHi there\n');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '[49406,320,1125,539,320,2368,49407]\n[49406,49407]\n[49406,1883,997,49407]\n');
});

test('msta-edge tokenize: missing vocabulary or flag is a clear error', () => {
  const missing = cli(['tokenize', '--vocab', 'no/such/vocab.txt.gz'], 'x\n');
  assert.equal(missing.status, 2, 'a missing input file is an input error');
  assert.match(missing.stderr, /VOCAB_INVALID/);
  assert.match(missing.stderr, /no\/such\/vocab\.txt\.gz/);
  assert.equal(missing.stdout, '');
  const usage = cli(['tokenize'], '');
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--vocab FILE is required/);
});
