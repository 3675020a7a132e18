// Teach by example end to end, through real parts (docs/teach.md): gst-rtsp-server cameras showing
// synthetic actions -> `msta-edge record` labelled clips -> `python3 -m msta train --init-bundle`
// (the frozen backbone of the bundle the daemon runs, no checkpoint) -> `export` -> the running
// daemon gets SIGHUP with the new model.bundle -> events from Mosquitto carry the new model's
// sha256, and the camera's source process never restarted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readBundle } from '../src/model/read-bundle.js';
import { runCliProcess } from './support/cli.js';
import { swapConfig } from './support/model-swap.js';
import { DaemonProcess } from './support/daemon-process.js';
import { missingBrokerTools, startMosquitto, subscriber, type Received } from './support/mosquitto.js';
import { RtspServer } from './support/rtsp-server.js';
import { SEED, synthLoopedVideos } from './support/synth.js';
import { tempDir } from './support/temp-dir.js';

const BUNDLE = resolve('models/synthetic-actions');
// Actions that look alike at every moment, so a looped clip stays true to its label.
const LABELS = ['red ball blinking', 'blue ball blinking', 'nothing happening'];
const BLINK_S = 3.84; // six blink periods: the loop has no seam
const skip = missingBrokerTools();

/** The daemon's config: camera `door` on `cameraUrl`, the bundle. */
function config(file: string, bundle: string, cameraUrl: string, mqttUrl: string): void {
  swapConfig(file, bundle, mqttUrl, cameraUrl, 'door');
  // Per-clip scores too: when no event comes, they say what the model saw. One clip starts an
  // event: a model taught on 6 clips can tell a blink's phases apart (clips 2 frames apart are half
  // a blink apart), saying "red" on every other clip, and this test is about the swap.
  writeFileSync(file, readFileSync(file, 'utf8')
    .replace(`  url: ${mqttUrl}\n`, `  url: ${mqttUrl}\n  publish_scores: true\n`)
    .replace('  min_clips: 2\n', '  min_clips: 1\n'));
}

/** Debian's python3 in training/ at one torch thread; rejects with its stderr on failure. */
function msta(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('/usr/bin/python3', ['-m', 'msta', ...args], { cwd: 'training', env: { ...process.env, MSTA_THREADS: '1' } });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(out);
      else reject(new Error(`python3 -m msta ${args.join(' ')} exited ${code}:\n${out.slice(-3000)}`));
    });
  });
}

test('record -> train from the running bundle -> export -> SIGHUP: events from the taught model, camera never restarted', { skip, timeout: 300_000 }, async () => {
  console.log(`synthetic clips seed ${SEED} (MSTA_TEST_SEED replays it)`);
  const dir = tempDir('msta-teach-');
  // 80 loops: several minutes of each action, longer than the test on a loaded box (no end of stream)
  const videos = synthLoopedVideos(LABELS, BLINK_S, 80);
  const broker = await startMosquitto();
  const cameras = new Map<string, RtspServer>();
  for (const label of LABELS) cameras.set(label, await RtspServer.start({ media: videos.get(label)! }));
  const doorUrl = cameras.get('red ball blinking')!.url('media');
  const file = join(dir, 'msta-edge.yaml');
  config(file, BUNDLE, doorUrl, broker.url);
  const oldSha = (await readBundle(BUNDLE)).sha256;
  const listen = await subscriber(broker.url, ['msta/door/events']);
  const scores = await subscriber(broker.url, ['msta/door/scores']);
  const daemon = DaemonProcess.start(['--config', file]);
  const payload = (m: Received) => JSON.parse(m.payload) as { label: string; model: { name: string; sha256: string } };
  try {
    // 1. Record: two clips per label from the camera showing it, into one folder (runs add up).
    const clips = join(dir, 'teach');
    for (const label of LABELS) {
      const r = await runCliProcess(['record', '--url', cameras.get(label)!.url('media'), '--seconds', '1.6', '--count', '2', '--label', label, '--out', clips], { timeoutMs: 90_000 });
      assert.equal(r.code, 0, r.stderr);
    }
    const index = JSON.parse(readFileSync(join(clips, 'labels.json'), 'utf8')) as { file: string; label: string }[];
    assert.deepEqual(index.map((e) => e.label), LABELS.flatMap((l) => [l, l]));

    // 2. Train fresh adapters on the running bundle's frozen backbone; 3. export a new bundle.
    writeFileSync(join(dir, 'labels.txt'), `${LABELS.join('\n')}\n`);
    const run = join(dir, 'run');
    const trained = await msta(['train', '--data', clips, '--labels', join(dir, 'labels.txt'), '--init-bundle', BUNDLE, '--out', run,
      '--epochs', '6', '--warmup-epochs', '0', '--alpha', '0', '--holdout', '0', '--name', 'taught-door'], 120_000);
    assert.match(trained, /6 training clips, 0 held out, 3 labels/);
    const taught = join(dir, 'bundles', 'taught-door');
    await msta(['export', '--checkpoint', join(run, 'checkpoint.pt'), '--out', taught], 120_000);
    const newBundle = await readBundle(taught);
    assert.deepEqual(newBundle.manifest.labels, LABELS);
    assert.notEqual(newBundle.sha256, oldSha);

    // The daemon has been watching the door with the old model all along.
    await daemon.waitForLine((l) => l.msg === 'source child started' && l.camera === 'door', 60_000, 'the camera streaming');
    await listen.waitFor((m) => payload(m).model.sha256 === oldSha, 90_000, 'an event from the running model');
    const child = (await daemon.waitForLine((l) => l.msg === 'source child started' && l.camera === 'door')).pid;
    const metrics = async () => (await fetch(`http://${await daemon.httpAddress()}/metrics`)).text();
    const reconnects = (text: string) => /msta_source_reconnects_total\{camera="door"\} (\d+)/.exec(text)?.[1];
    const reconnectsBefore = reconnects(await metrics());

    // 4. Hot swap: the new model.bundle, SIGHUP.
    config(file, taught, doorUrl, broker.url);
    daemon.child.kill('SIGHUP');
    const swapped = await daemon.waitForLine((l) => l.msg === 'model swapped', 60_000, 'model swapped');
    assert.deepEqual(swapped.model, { name: 'taught-door', sha256: newBundle.sha256 });
    assert.equal(swapped.cameras_restarted, 0);

    // 5. Events from Mosquitto now carry the taught model, and it sees what the camera shows.
    const seen = listen.messages.length;
    const event = payload(await listen.waitFor((m) => listen.messages.indexOf(m) >= seen && payload(m).model.sha256 === newBundle.sha256, 90_000, 'an event from the taught model').catch((e: Error) => {
      const last = scores.messages.slice(-5).map((m) => m.payload).join('\n');
      throw new Error(`${e.message}\nthe last of ${scores.messages.length} per-clip scores:\n${last}`);
    }));
    assert.equal(event.model.name, 'taught-door');
    assert.equal(event.label, 'red ball blinking');

    const children = daemon.lines.filter((l) => l.msg === 'source child started' && l.camera === 'door').map((l) => l.pid);
    assert.deepEqual(children, [child], 'the camera kept its source process');
    const after = await metrics();
    assert.equal(reconnects(after), reconnectsBefore, 'no reconnect');
    assert.match(after, new RegExp(`msta_model_info\\{model="taught-door",provider="cpu",sha256="${newBundle.sha256}"\\} 1`));
  } finally {
    await daemon.stop();
    await listen.close();
    await scores.close();
    await broker.dispose();
    for (const server of cameras.values()) await server.stop();
  }
});
