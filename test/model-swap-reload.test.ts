// Hot swap, the two other ways in: new files written into the directory model.bundle already names
// (a half-written bundle refused, the whole one swapped in, the camera untouched), and a bundle
// that takes frames differently (its sampling), which restarts the camera's source with the new
// interval and events resume from the new model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBundle } from '../src/model/read-bundle.js';
import { DaemonProcess } from './support/daemon-process.js';
import { missingBrokerTools, startMosquitto, subscriber, type Received } from './support/mosquitto.js';
import { BUNDLE, renamedBundle, swapConfig } from './support/model-swap.js';
import { waitGone } from './support/process-gone.js';
import { tempDir } from './support/temp-dir.js';

const skip = missingBrokerTools();

interface EventPayload {
  model: { name: string; sha256: string };
  clip: { first_frame_at: string; last_frame_at: string; frames: number };
}
const payload = (m: Received) => JSON.parse(m.payload) as EventPayload;

/** The daemon on the bundle `bundleIn(dir)` returns, with Mosquitto and a subscriber. */
async function setup(bundleIn: (dir: string) => string = () => BUNDLE) {
  const dir = tempDir('msta-swap-reload-');
  const bundle = bundleIn(dir);
  const broker = await startMosquitto();
  const file = join(dir, 'msta-edge.yaml');
  swapConfig(file, bundle, broker.url);
  const listen = await subscriber(broker.url, ['msta/desk/events']);
  const daemon = DaemonProcess.start(['--config', file]);
  /** The first event after the `from`-th message that matches. */
  const eventAfter = (from: number, match: (e: EventPayload) => boolean, what: string) =>
    listen.waitFor((m) => listen.messages.indexOf(m) >= from && match(payload(m)), 90_000, what).then(payload);
  const childPids = () => daemon.lines.filter((l) => l.msg === 'source child started' && l.camera === 'desk').map((l) => l.pid as number);
  const metrics = async () => (await fetch(`http://${await daemon.httpAddress()}/metrics`)).text();
  const dispose = async () => {
    await daemon.stop();
    await listen.close();
    await broker.dispose();
  };
  return { dir, file, bundle, broker, listen, daemon, eventAfter, childPids, metrics, dispose };
}

test('new files written into the same bundle directory: half-written is refused and the model kept, complete swaps on SIGHUP without a camera restart', { skip, timeout: 240_000 }, async () => {
  // the daemon runs a copy, so its files can be replaced under it
  const run = await setup((dir) => {
    cpSync(BUNDLE, join(dir, 'bundle'), { recursive: true });
    return join(dir, 'bundle');
  });
  const live = run.bundle;
  const oldSha = (await readBundle(live)).sha256;
  try {
    await run.eventAfter(0, (e) => e.model.sha256 === oldSha, 'an event from the first model');
    const [child] = run.childPids();

    // A new text graph (same function, other bytes) lands first: bundle.json still pins the old hash.
    const text = join(live, 'text.onnx');
    const py = spawnSync('/usr/bin/python3', ['-c', 'import onnx,sys; m=onnx.load(sys.argv[1]); m.doc_string="retrained"; onnx.save(m, sys.argv[1])', text], { encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    run.daemon.child.kill('SIGHUP');
    const refused = await run.daemon.waitForLine((l) => l.msg === 'SIGHUP: new config rejected, keeping the running one', 60_000, 'refusal of the half-written bundle');
    assert.match(JSON.stringify(refused.issues), /model\.bundle: .*text\.onnx.*sha256 expected/);
    const seen = run.listen.messages.length;
    await run.eventAfter(seen, (e) => e.model.sha256 === oldSha, 'events from the kept model');

    // Then its bundle.json: the directory is whole again, as a new model.
    const manifest = JSON.parse(readFileSync(join(live, 'bundle.json'), 'utf8')) as { name: string; files: Record<string, string> };
    manifest.name = 'synthetic-actions-retrained';
    manifest.files['text.onnx'] = createHash('sha256').update(readFileSync(text)).digest('hex');
    writeFileSync(join(live, 'bundle.json'), JSON.stringify(manifest, null, 1));
    const newSha = (await readBundle(live)).sha256;
    run.daemon.child.kill('SIGHUP');
    const swapped = await run.daemon.waitForLine((l) => l.msg === 'model swapped', 60_000, 'model swapped');
    assert.deepEqual(swapped.model, { name: 'synthetic-actions-retrained', sha256: newSha });
    assert.equal(swapped.cameras_restarted, 0);
    const event = await run.eventAfter(run.listen.messages.length, (e) => e.model.sha256 === newSha, 'an event from the retrained model');
    assert.equal(event.model.name, 'synthetic-actions-retrained');
    assert.deepEqual(run.childPids(), [child], 'the camera kept its source process');
    const metrics = await run.metrics();
    assert.match(metrics, /msta_model_swaps_total\{result="swapped"\} 1/);
    assert.match(metrics, /msta_model_swaps_total\{result="refused"\} 1/);
  } finally {
    await run.dispose();
  }
});

test('a bundle that samples frames differently restarts the camera with the new interval; events resume from it', { skip, timeout: 240_000 }, async () => {
  const run = await setup();
  const slower = renamedBundle(run.dir, 'synthetic-actions-200ms', false, (m) => {
    m.sampling = { mode: 'interval', interval_ms: 200 };
    m.frame_interval_ms = 200;
  });
  const [oldSha, newSha] = [(await readBundle(BUNDLE)).sha256, (await readBundle(slower)).sha256];
  const span = (e: EventPayload) => (Date.parse(e.clip.last_frame_at) - Date.parse(e.clip.first_frame_at)) / (e.clip.frames - 1);
  try {
    const before = await run.eventAfter(0, (e) => e.model.sha256 === oldSha, 'an event from the first model');
    assert.ok(Math.abs(span(before) - 160) < 20, `160 ms between frames, got ${span(before)}`);
    const [child] = run.childPids();

    swapConfig(run.file, slower, run.broker.url);
    run.daemon.child.kill('SIGHUP');
    const swapped = await run.daemon.waitForLine((l) => l.msg === 'model swapped (new input shape: cameras restarted)', 60_000, 'model swapped with a camera restart');
    assert.deepEqual(swapped.model, { name: 'synthetic-actions-200ms', sha256: newSha });
    assert.equal(swapped.cameras_restarted, 1);
    assert.ok(await waitGone(child!, 15_000), 'the old source process exited');
    const event = await run.eventAfter(run.listen.messages.length, (e) => e.model.sha256 === newSha, 'an event from the new model');
    assert.ok(Math.abs(span(event) - 200) < 20, `200 ms between frames, got ${span(event)}`);
    const children = run.childPids();
    assert.equal(children.length, 2, 'one new source process');
    assert.notEqual(children[1], child);
    const metrics = await run.metrics();
    assert.match(metrics, /msta_model_swaps_total\{result="swapped"\} 1/);
    assert.match(metrics, /msta_source_up\{camera="desk"\} 1/);
  } finally {
    await run.dispose();
  }
});
