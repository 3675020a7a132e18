import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeUtf8, TextEncodingError } from '../src/read-text.js';

test('UTF-8 text is decoded (a BOM dropped); other bytes are refused with the line of the first bad one', () => {
  assert.equal(decodeUtf8(Buffer.from('\uFEFFcafé\n', 'utf8'), 'f'), 'café\n');
  assert.throws(() => decodeUtf8(Buffer.concat([Buffer.from('a literal \uFFFD is text\n', 'utf8'), Buffer.from([0xff])]), 'f'), (e: unknown) => e instanceof TextEncodingError && e.line === 2);
  assert.throws(
    () => decodeUtf8(Buffer.concat([Buffer.from('one\ntwo\n'), Buffer.from('caf\xe9\n', 'latin1')]), 'labels.txt'),
    (e: unknown) => e instanceof TextEncodingError && e.file === 'labels.txt' && e.line === 3 && /not UTF-8 text \(first invalid byte on line 3\)/.test(e.message),
  );
});
