// Fair scheduling when inference is the bottleneck, through the real daemon: three live cameras
// (videotestsrc children) share one worker running a graph made heavy on purpose
// (test/support/faulty-graph.py heavy: a fixed large MatMul per clip). The stride rises to what
// the model can serve, every camera gets its share, and coverage is measured and warned about.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonProcess } from './support/daemon-process.js';
import { faultyBundle } from './support/faulty-bundle.js';
import { tempDir } from './support/temp-dir.js';

const CAMERAS = ['a', 'b', 'c'];

test('three cameras on a saturated model: the stride adapts, no camera starves, coverage is exposed and warned about once', { timeout: 120_000 }, async (t) => {
  const dir = tempDir('msta-fair-');
  const file = join(dir, 'msta-edge.yaml');
  writeFileSync(file, [
    'cameras:',
    ...CAMERAS.flatMap((id, i) => [`  - id: ${id}`, `    url: test://${['ball', 'smpte', 'snow'][i]}`]),
    'model:',
    `  bundle: ${await faultyBundle('heavy')}`,
    '  providers: [cpu]',
    '  workers: 1',
    '  intra_op_threads: 1',
    'recognition:',
    '  stride: 1',
    '  stride_max: 64',
    '  adapt_interval_s: 1',
    '  coverage_warn_below: 0.9',
    'http:',
    '  listen: 127.0.0.1:0',
    'logging:',
    '  format: json',
    'mqtt:',
    `  spool: { dir: ${join(dir, 'spool')} }`,
    '',
  ].join('\n'));
  const daemon = DaemonProcess.start(['--config', file]);
  try {
    const address = await daemon.httpAddress();
    await daemon.waitForLine((l) => l.msg === 'clip stride adapted to the model capacity', 60_000, 'the stride adapted');
    // Let the adapted stride run for a coverage window's worth of ticks.
    const sample = async () => {
      const metrics = await (await fetch(`http://${address}/metrics`)).text();
      const per = (name: string) => CAMERAS.map((c) => Number(metrics.match(new RegExp(`^${name}\\{camera="${c}",region=""\\} ([0-9.e+-]+)$`, 'm'))?.[1]));
      return { coverage: per('msta_camera_coverage_ratio'), stride: per('msta_camera_clip_stride'), made: per('msta_clips_total'), metrics };
    };
    await new Promise((r) => setTimeout(r, 12_000));
    const s = await sample();
    t.diagnostic(`stride ${s.stride.join(', ')}; coverage ${s.coverage.map((c) => c.toFixed(3)).join(', ')}; clips made ${s.made.join(', ')}`);
    for (const [i, c] of CAMERAS.entries()) {
      assert.ok(s.stride[i]! > 1, `camera ${c}: stride raised above 1 (${s.stride[i]})`);
      assert.ok(s.coverage[i]! > 0 && s.coverage[i]! < 0.9, `camera ${c}: coverage ${s.coverage[i]}`);
      assert.match(s.metrics, new RegExp(`^msta_camera_recognition_state\\{camera="${c}",region="",state="recognizing"\\} 1$`, 'm'));
    }
    // Fair: the best-served camera has at most twice the coverage of the worst.
    const [lo, hi] = [Math.min(...s.coverage), Math.max(...s.coverage)];
    assert.ok(hi <= 2 * lo, `coverage per camera ${s.coverage.join(', ')}`);
    // Warned once per camera, not once per tick.
    for (const c of CAMERAS) {
      assert.equal(daemon.lines.filter((l) => String(l.msg).startsWith('coverage low') && l.camera === c).length, 1, `one warning for ${c}`);
    }
    const replaced = Number(s.metrics.match(/^msta_clips_dropped_total\{camera="a",region="",reason="replaced"\} (\d+)$/m)?.[1] ?? 0);
    assert.ok(replaced < s.made[0]! / 2, `an adapted stride makes few clips only to replace them (${replaced} of ${s.made[0]})`);
  } finally {
    await daemon.stop();
  }
});
