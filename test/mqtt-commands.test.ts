// Commands and their topics, the per-label topic levels, the recognition switch file and the
// console URL: pure functions and a small file, tested directly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { consoleUrl } from '../src/daemon/daemon.js';
import { RecognitionSwitches } from '../src/daemon/recognition-switches.js';
import { isMstaError } from '../src/errors.js';
import { parseCommand } from '../src/sink/commands.js';
import { labelLevel, sinkTopics } from '../src/sink/topics.js';
import { tempDir } from './support/temp-dir.js';

const t = sinkTopics();
const cameras = new Set(['yard', 'door']);
const parse = (topic: string, payload: string, retained = false) => parseCommand(t, topic, Buffer.from(payload), retained, cameras);

test('command topics: built and recognised in topics.ts only, under nested base topics too', () => {
  assert.equal(t.recognitionSet('yard'), 'msta/yard/recognition/set');
  assert.equal(t.recognition('yard'), 'msta/yard/recognition');
  assert.equal(t.recognitionSetFilter, 'msta/+/recognition/set');
  assert.equal(t.recognitionSetCamera('msta/yard/recognition/set'), 'yard');
  for (const other of ['msta/yard/recognition', 'msta/recognition/set', 'msta/a/b/recognition/set', 'other/yard/recognition/set', 'msta//recognition/set']) {
    assert.equal(t.recognitionSetCamera(other), undefined, other);
  }
  const nested = sinkTopics('site/msta');
  assert.equal(nested.recognitionSetCamera(nested.recognitionSet('yard')), 'yard');
  assert.equal(nested.recognitionSetFilter, 'site/msta/+/recognition/set');
});

test('ON and OFF, in any case and with spaces around, become commands; anything else says why it is refused', () => {
  assert.deepEqual(parse('msta/yard/recognition/set', 'ON'), { result: 'accepted', command: { type: 'recognition', camera: 'yard', enabled: true } });
  assert.deepEqual(parse('msta/door/recognition/set', ' off\n'), { result: 'accepted', command: { type: 'recognition', camera: 'door', enabled: false } });
  assert.equal(parse('msta/yard/events', 'ON'), undefined, 'not a command topic');
  for (const bad of ['', 'true', '1', '{"state":"ON"}', 'ONN', '\u0000']) {
    const r = parse('msta/yard/recognition/set', bad);
    assert.equal(r?.result, 'bad_payload', JSON.stringify(bad));
  }
  const long = parse('msta/yard/recognition/set', 'x'.repeat(500));
  assert.ok(long?.result === 'bad_payload' && long.why.length < 200, 'a long payload is shortened in the message');
  const unknown = parse('msta/garage/recognition/set', 'ON');
  assert.deepEqual(unknown, { result: 'unknown_camera', camera: 'garage', why: 'a command on msta/garage/recognition/set names no configured camera' });
  assert.equal(parse('msta/yard/recognition/set', 'ON', true)?.result, 'retained');
});

test('a label is its own topic level when it can be one, else its discovery id', () => {
  assert.equal(labelLevel('falling down'), 'falling down');
  assert.equal(t.active('yard', 'falling down'), 'msta/yard/active/falling down');
  for (const bad of ['sit/stand', 'a+b', 'c#']) assert.match(labelLevel(bad), /^[A-Za-z0-9_-]+_[0-9a-f]{8}$/, bad);
  assert.notEqual(labelLevel('a/b'), labelLevel('a+b'));
  assert.equal(t.activeFilter, 'msta/+/active/+');
});

test('recognition switches: none paused without a file, kept across a reload of the file, a damaged file named', () => {
  const dir = tempDir('msta-switches-');
  const path = join(dir, 'state', 'recognition.json');
  const switches = RecognitionSwitches.load(path);
  assert.equal(switches.enabled('yard'), true);
  assert.equal(switches.set('yard', true), false, 'unchanged: nothing written');
  assert.equal(switches.set('yard', false), true);
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { paused: ['yard'] });
  assert.equal(RecognitionSwitches.load(path).enabled('yard'), false, 'a restart reads it back');
  switches.set('yard', true);
  assert.equal(RecognitionSwitches.load(path).enabled('yard'), true);

  for (const [text, what] of [['{"paused": "yard"}', 'must be {"paused": [camera ids]}'], ['not json', 'is not JSON']] as const) {
    writeFileSync(path, text);
    assert.throws(() => RecognitionSwitches.load(path), (e: unknown) => isMstaError(e, 'STATE_FAILED') && e.message.startsWith(path) && e.message.includes(what));
  }
  // A directory in the file's place: the write fails with the path named.
  const blocked = RecognitionSwitches.load(join(dir, 'nope', 'recognition.json'));
  writeFileSync(join(dir, 'nope'), 'a file where the directory should be');
  assert.throws(() => blocked.set('yard', false), (e: unknown) => isMstaError(e, 'STATE_FAILED') && e.message.includes(join(dir, 'nope', 'recognition.json')));
});

test('the console URL from the HTTP address; a wildcard bind shows a host name', () => {
  assert.equal(consoleUrl('127.0.0.1:9464'), 'http://127.0.0.1:9464/');
  assert.equal(consoleUrl('[::1]:9464'), 'http://[::1]:9464/');
  for (const wildcard of ['0.0.0.0:9464', '[::]:9464']) assert.match(consoleUrl(wildcard), /^http:\/\/[^/[\]:]+:9464\/$/, wildcard);
});
