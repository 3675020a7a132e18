import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../src/daemon/logger.js';

test('log lines never carry URL passwords or known secret values, in messages or fields', () => {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  const log = createLogger({ level: 'info', format: 'json', secrets: ['mqtt-s3cret'], destination });
  log.child({ stage: 'source', camera: 'c1' }).info({ url: 'rtsp://admin:hunter2@10.0.0.5/live', backup: 'rtsp://10.0.0.6/live?channel=1&token=hunter2' }, 'connecting to rtsp://admin:hunter2@10.0.0.5/live');
  log.error({ err: new Error('auth failed for user msta with mqtt-s3cret'), nested: { list: ['mqtts://u:hunter2@b:8883'] } }, 'mqtt failed');
  const all = lines.join('');
  assert.equal(lines.length, 2);
  assert.doesNotMatch(all, /hunter2|mqtt-s3cret/);
  const first = JSON.parse(lines[0]!);
  assert.equal(first.msg, 'connecting to rtsp://admin:***@10.0.0.5/live');
  assert.equal(first.url, 'rtsp://admin:***@10.0.0.5/live');
  assert.equal(first.backup, 'rtsp://10.0.0.6/live?channel=1&token=***');
  assert.equal(first.stage, 'source');
  assert.equal(first.camera, 'c1');
  assert.match(JSON.parse(lines[1]!).err.message, /auth failed for user msta with \*\*\*/);
});

test('redactUrl hides the whole password, even one with a raw @ in it', async () => {
  const { redactUrl } = await import('../src/redact.js');
  assert.equal(redactUrl('rtsp://admin:p@ss@cam:554/s'), 'rtsp://admin:***@cam:554/s');
  assert.equal(redactUrl('rtsp://admin:hunter2@cam/s?x=a@b'), 'rtsp://admin:***@cam/s?x=a@b');
  assert.equal(redactUrl('rtsp://viewer@cam/s'), 'rtsp://viewer@cam/s');
  assert.equal(redactUrl('file:///videos/a@b.mp4'), 'file:///videos/a@b.mp4');
});
