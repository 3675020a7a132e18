// Label descriptions longer than the bundle's text context are cut by the tokenizer (as CLIP
// does); the daemon names every one in a warning when it builds the recognizer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { readBundle } from '../src/model/read-bundle.js';
import { openVideoModel } from '../src/model/video-model.js';
import { ClipTokenizer } from '../src/model/clip-tokenizer.js';
import { loadClipVocab } from '../src/model/clip-vocab.js';
import { buildRecognizer, promptsCutToContext } from '../src/daemon/recognizer.js';
import { buildLabelSet, inlineActions } from '../src/recognize/label-set.js';

const BUNDLE = 'models/synthetic-actions';
const LONG = 'the red ball slides from the right side of the picture all the way over to the left side';

test('every prompt longer than the context is named in one warning; short ones are not', async () => {
  const bundle = await readBundle(BUNDLE);
  const tokenizer = new ClipTokenizer(loadClipVocab(bundle.vocabPath));
  const L = bundle.manifest.context_length;
  const set = buildLabelSet('a video of {}.', inlineActions([
    { name: 'red ball moving left', descriptions: ['a red ball', LONG] },
    { name: 'nothing happening', descriptions: [`${LONG} and back again`] },
  ], 'labels.actions'));
  const cut = promptsCutToContext(set, tokenizer, L);
  assert.deepEqual(cut.map((c) => [c.label, c.prompt]), [['red ball moving left', LONG], ['nothing happening', `${LONG} and back again`]]);
  assert.ok(cut.every((c) => c.tokens > L && c.tokens === tokenizer.tokenize(c.prompt).length));

  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  const model = await openVideoModel(bundle, { providers: ['cpu'], intraOpThreads: 1, interOpThreads: 1, spinning: false, cpus: 2, precision: 'fp32', timeout: { factor: 10, minSeconds: 30 }, maxRestarts: 1, tensorrt: { fp16: true, engineCacheDir: '/tmp' }, workers: 1, maxBatch: 4, maxWaitMs: 5 }, { log, registry: new Registry() });
  try {
    await buildRecognizer(set, undefined, model, tokenizer, log);
  } finally {
    await model.close();
  }
  const warnings = lines.filter((l) => l.level === 40 && String(l.msg).includes('context'));
  assert.equal(warnings.length, 1);
  const msg = String(warnings[0]!.msg);
  assert.match(msg, new RegExp(`2 label prompt\\(s\\) longer than the bundle's ${L}-token context`));
  assert.ok(msg.includes(JSON.stringify(LONG)) && msg.includes('"nothing happening"') && !msg.includes('"a red ball"'), msg);
});
