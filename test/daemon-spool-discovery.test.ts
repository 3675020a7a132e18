// The real daemon with a real Mosquitto: a second daemon on the same spool directory is refused
// (exit 1, the lock named), and a SIGHUP label reload re-announces Home Assistant discovery
// with the new event_types (never the background label). Labelled counters are scraped at 0.
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DaemonProcess } from './support/daemon-process.js';
import { runCliProcess } from './support/cli.js';
import { missingBrokerTools, startMosquitto, subscriber } from './support/mosquitto.js';
import { tempDir } from './support/temp-dir.js';

const skip = missingBrokerTools();
const PROMTOOL = spawnSync('sh', ['-c', 'command -v promtool']).status === 0 ? undefined : 'promtool not installed';

function writeConfig(file: string, url: string, actions: string[]): void {
  writeFileSync(
    file,
    [
      'cameras:',
      '  - id: a',
      '    url: test://ball',
      'model:',
      `  bundle: ${resolve('models/synthetic-actions')}`,
      '  providers: [cpu]',
      'labels:',
      `  actions: [${actions.join(', ')}]`,
      '  background: nothing happening',
      'mqtt:',
      `  url: ${url}`,
      '  spool:',
      '    dir: spool',
      '  homeassistant:',
      '    enabled: true',
      'http:',
      '  listen: 127.0.0.1:0',
      'logging:',
      '  format: json',
      '',
    ].join('\n'),
  );
}

test('two daemons on one spool: the second is refused with exit 1 naming the lock; SIGHUP re-announces discovery without the background label', { skip, timeout: 90_000 }, async () => {
  const broker = await startMosquitto();
  const dir = tempDir('msta-spool-daemon-');
  const config = join(dir, 'msta-edge.yaml');
  writeConfig(config, broker.url, ['red ball moving left', 'blue ball growing']);
  const sub = await subscriber(broker.url, ['homeassistant/event/#']);
  const topic = 'homeassistant/event/msta/a_action/config';
  const eventTypes = (): string[] | undefined => {
    const last = sub.on(topic).at(-1);
    return last ? (JSON.parse(last.payload) as { event_types: string[] }).event_types : undefined;
  };
  const daemon = DaemonProcess.start(['--config', config]);
  try {
    await daemon.waitForLine((l) => l.msg.startsWith('connected to'), 60_000, 'connected');
    await sub.waitFor((m) => m.topic === topic, 10_000, 'discovery');
    assert.deepEqual(eventTypes(), ['red ball moving left', 'blue ball growing']);

    const second = await runCliProcess(['run', '--config', config], { timeoutMs: 60_000 });
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, new RegExp(`SPOOL_LOCKED: ${join(dir, 'spool')}: the spool directory is in use by another msta-edge \\(pid ${daemon.pid}`));

    // Labelled counters are there at 0 before anything happened, in a real scrape (once the camera is set up).
    await daemon.waitForLine((l) => l.msg === 'camera streaming', 60_000, 'the camera streaming');
    const address = await daemon.httpAddress();
    const metrics = await (await fetch(`http://${address}/metrics`)).text();
    for (const reason of ['no_space', 'not_writable', 'write_failed']) assert.match(metrics, new RegExp(`^msta_mqtt_events_lost_total\\{reason="${reason}"\\} 0$`, 'm'));
    assert.match(metrics, /^msta_mqtt_spool_dropped_total\{reason="corrupt"\} 0$/m);
    for (const reason of ['replaced', 'size_mismatch', 'stale']) assert.match(metrics, new RegExp(`^msta_clips_dropped_total\\{camera="a",region="",reason="${reason}"\\} \\d+$`, 'm'));
    for (const reason of ['overflow', 'size_mismatch']) assert.match(metrics, new RegExp(`^msta_source_frames_dropped_total\\{camera="a",reason="${reason}"\\} \\d+$`, 'm'));
    assert.match(metrics, /^msta_source_reconnects_total\{camera="a"\} 0$/m);
    for (const type of ['start', 'update', 'end']) assert.match(metrics, new RegExp(`^msta_events_total\\{camera="a",region="",label="blue ball growing",type="${type}"\\} \\d+$`, 'm'));
    assert.doesNotMatch(metrics, /^msta_events_total\{[^}]*label="nothing happening"/m, 'the background label is never an event');
    if (!PROMTOOL) {
      const check = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
      assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);
    }

    await daemon.waitForLine((l) => l.msg === 'labels ready', 60_000, 'labels ready');
    writeConfig(config, broker.url, ['red ball moving up', 'blue ball blinking', 'nothing happening']);
    daemon.child.kill('SIGHUP');
    await sub.waitFor(() => eventTypes()?.includes('red ball moving up') === true, 30_000, 're-announced discovery');
    assert.deepEqual(eventTypes(), ['red ball moving up', 'blue ball blinking']);

    daemon.child.kill('SIGTERM');
    assert.equal((await daemon.exited).code, 0, daemon.raw.slice(-2000));
    // Released at stop: the next daemon takes the spool without a stale-lock warning.
    const third = DaemonProcess.start(['--config', config]);
    try {
      await third.waitForLine((l) => l.msg.startsWith('connected to'), 60_000, 'the next daemon connected');
      assert.ok(!third.lines.some((l) => l.msg.includes('took over the spool lock')), 'the lock was released, not left stale');
    } finally {
      // SIGTERM: a SIGKILLed daemon would leave its source child behind.
      await third.stop('SIGTERM');
    }
  } finally {
    await daemon.stop('SIGKILL');
    await sub.close();
    await broker.dispose();
  }
});

test('a spool directory the daemon cannot write: check-config and run refuse it with exit 2 naming mqtt.spool.dir', { timeout: 60_000 }, async () => {
  const dir = tempDir('msta-spool-daemon-');
  const config = join(dir, 'msta-edge.yaml');
  // A file where the spool directory should be: not writable as a directory, even for root.
  writeFileSync(join(dir, 'spool'), 'not a directory');
  writeConfig(config, 'mqtt://127.0.0.1:1', ['red ball moving left']);
  for (const command of ['check-config', 'run']) {
    const r = await runCliProcess([command, '--config', config], { timeoutMs: 60_000 });
    assert.equal(r.code, 2, `${command}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`CONFIG_INVALID: .*\\n  mqtt\\.spool\\.dir: ${join(dir, 'spool')} is not a directory`));
  }
});

test('a spool on a read-only file system: run refuses it with exit 2, EROFS and the directory named', { timeout: 60_000 }, async (t) => {
  const dir = tempDir('msta-spool-daemon-');
  const mnt = join(dir, 'ro');
  mkdirSync(mnt);
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', mnt]).status !== 0) {
    t.skip('mount -t tmpfs is not permitted here (needs root with CAP_SYS_ADMIN)');
    return;
  }
  try {
    const config = join(dir, 'msta-edge.yaml');
    writeConfig(config, 'mqtt://127.0.0.1:1', ['red ball moving left']);
    writeFileSync(config, readFileSync(config, 'utf8').replace('    dir: spool', `    dir: ${mnt}`));
    const r = await runCliProcess(['run', '--config', config], { timeoutMs: 60_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`mqtt\\.spool\\.dir: ${mnt}: on a read-only file system \\(EROFS\\)`));
  } finally {
    spawnSync('umount', ['-l', mnt]);
  }
});
