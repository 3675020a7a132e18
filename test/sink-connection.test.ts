// The broker URL's credentials are taken out of the URL (mqtt.js's url.parse throws on invalid
// percent-encoding) and decoded safely.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCredentials } from '../src/sink/connection.js';

test('credentials leave the URL, decoded; invalid percent-encoding is kept as written', () => {
  assert.deepEqual(splitCredentials('mqtt://broker:1883'), { url: 'mqtt://broker:1883' });
  assert.deepEqual(splitCredentials('mqtt://u%40x:p%3Aw@broker:1883'), { url: 'mqtt://broker:1883', username: 'u@x', password: 'p:w' });
  assert.deepEqual(splitCredentials('mqtt://u:p%zz@host'), { url: 'mqtt://host', username: 'u', password: 'p%zz' });
  assert.deepEqual(splitCredentials('wss://user@host:8884/mqtt'), { url: 'wss://host:8884/mqtt', username: 'user' });
  assert.deepEqual(splitCredentials('not a url'), { url: 'not a url' });
});
