// The running daemon swaps its model bundle on SIGHUP (a new model.bundle): the new sessions are
// warmed and the labels embedded before cameras move, the camera's source process never restarts,
// events then carry the new model's name and sha256; a bundle that fails its checks is refused
// and the running model kept (msta_model_swaps_total counts both).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readBundle } from '../src/model/read-bundle.js';
import { DaemonProcess } from './support/daemon-process.js';
import { missingBrokerTools, startMosquitto, subscriber } from './support/mosquitto.js';
import { BUNDLE, renamedBundle, swapConfig as config } from './support/model-swap.js';
import { tempDir } from './support/temp-dir.js';

const skip = missingBrokerTools();

test('SIGHUP with a new model.bundle swaps the model without restarting the camera; an invalid bundle is refused', { skip, timeout: 240_000 }, async () => {
  const dir = tempDir('msta-swap-');
  const broker = await startMosquitto();
  const file = join(dir, 'msta-edge.yaml');
  config(file, BUNDLE, broker.url);
  const v2 = renamedBundle(dir, 'synthetic-actions-v2');
  const broken = renamedBundle(dir, 'synthetic-actions-broken', true);
  const [oldSha, newSha] = [(await readBundle(BUNDLE)).sha256, (await readBundle(v2)).sha256];
  const listen = await subscriber(broker.url, ['msta/desk/events']);
  const daemon = DaemonProcess.start(['--config', file]);
  const eventFrom = (sha: string) => (m: { payload: string }) => (JSON.parse(m.payload) as { model: { sha256: string } }).model.sha256 === sha;
  try {
    await listen.waitFor(eventFrom(oldSha), 90_000, 'an event from the first model');
    const child = (await daemon.waitForLine((l) => l.msg === 'source child started' && l.camera === 'desk')).pid;

    config(file, v2, broker.url);
    daemon.child.kill('SIGHUP');
    const swapped = await daemon.waitForLine((l) => l.msg === 'model swapped', 60_000, 'model swapped');
    assert.deepEqual(swapped.model, { name: 'synthetic-actions-v2', sha256: newSha });
    assert.equal(swapped.cameras_restarted, 0);
    const swapAt = daemon.lines.indexOf(swapped);
    // warmed and labelled before the swap: the new model's labels were embedded first
    assert.ok(daemon.lines.slice(0, swapAt).some((l) => l.msg === 'labels ready'));
    const event = JSON.parse((await listen.waitFor(eventFrom(newSha), 90_000, 'an event from the new model')).payload);
    assert.equal(event.model.name, 'synthetic-actions-v2');

    config(file, broken, broker.url);
    daemon.child.kill('SIGHUP');
    const refused = await daemon.waitForLine((l) => l.msg === 'SIGHUP: new config rejected, keeping the running one', 60_000, 'refusal');
    assert.match(JSON.stringify(refused.issues), /model\.bundle: .*text\.onnx.*sha256 expected/);
    const seen = listen.messages.length;
    await listen.waitFor((m) => listen.messages.indexOf(m) >= seen && eventFrom(newSha)(m), 90_000, 'events from the kept model');

    const children = daemon.lines.filter((l) => l.msg === 'source child started' && l.camera === 'desk').map((l) => l.pid);
    assert.deepEqual(children, [child], 'the camera kept its source process through both reloads');
    const metrics = await (await fetch(`http://${await daemon.httpAddress()}/metrics`)).text();
    assert.match(metrics, /msta_model_swaps_total\{result="swapped"\} 1/);
    assert.match(metrics, /msta_model_swaps_total\{result="refused"\} 1/);
    assert.match(metrics, new RegExp(`msta_model_info\\{model="synthetic-actions-v2",provider="cpu",sha256="${newSha}"\\} 1`));
    assert.ok(!metrics.includes(`sha256="${oldSha}"`), 'the old model is no longer reported');
  } finally {
    await daemon.stop();
    await listen.close();
    await broker.dispose();
  }
});
