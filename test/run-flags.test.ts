import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../src/config/load-config.js';
import { ConfigError } from '../src/config/config-error.js';
import { applyRunFlags, parseCameraFlag } from '../src/daemon/run-flags.js';

const base = () => parseConfig('cameras:\n  - id: old\n    url: rtsp://h/s\nlabels:\n  files: [/etc/labels.yaml]\nmqtt:\n  url: mqtt://broker:1883\n', { file: '/etc/msta/c.yaml', env: {} });

test('flags override the config file', () => {
  const config = applyRunFlags(base(), {
    bundle: 'models/x',
    camera: ['front=rtsp://u:p@cam/1', 'yard=file:///videos/a.mp4'],
    labels: 'a person falling, waving',
    mqttUrl: 'mqtts://other:8883',
    http: '0.0.0.0:9464',
  }, '/home/me');
  assert.equal(config.model?.bundle, '/home/me/models/x');
  assert.deepEqual(config.cameras.map((c) => [c.id, c.url, c.transport]), [['front', 'rtsp://u:p@cam/1', 'tcp'], ['yard', 'file:///videos/a.mp4', 'tcp']]);
  assert.deepEqual(config.labels.actions, ['a person falling', 'waving']);
  assert.deepEqual(config.labels.files, [], '--labels replaces the configured label files');
  assert.equal(config.mqtt.url, 'mqtts://other:8883');
  assert.equal(config.http.listen, '0.0.0.0:9464');
});

test('without flags the config is unchanged; --labels-file replaces inline actions', () => {
  assert.deepEqual(applyRunFlags(base(), {}), base());
  const config = applyRunFlags(base(), { labelsFile: 'l.txt' }, '/w');
  assert.deepEqual(config.labels.files, ['/w/l.txt']);
  assert.deepEqual(config.labels.actions, []);
});

test('bad flag values are config errors that name the flag, without echoing the URL', () => {
  assert.equal(parseCameraFlag('novalue'), undefined);
  assert.throws(
    () => applyRunFlags(base(), { camera: ['bad id=rtsp://h/s', 'rtsp://u:secret@h/s'], http: 'nowhere' }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /--camera: "rtsp:\/\/u:\*\*\*@h\/s" is not ID=URL/);
      assert.match(e.message, /--camera\[0\]\.id: must be 1-64 letters/);
      assert.match(e.message, /--http: must be HOST:PORT/);
      assert.doesNotMatch(e.message, /secret/);
      return true;
    },
  );
});
