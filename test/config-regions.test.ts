// Regions, masks and crop in the config: defaults, and errors that name the path and line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../src/config/load-config.js';
import { ConfigError } from '../src/config/config-error.js';
import { cameraStreams } from '../src/daemon/camera-streams.js';
import { effectiveSettings } from '../src/config/effective-settings.js';

const FILE = '/etc/msta-edge/config.yaml';
const camera = (extra: string) => `cameras:\n  - id: room\n    url: rtsp://cam/s\n${extra}`;

function issuesOf(text: string): string[] {
  try {
    parseConfig(text, { file: FILE, env: {} });
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.issues.map((i) => `${i.path.join('/')}@${i.line ?? '?'}: ${i.message}`);
  }
  return [];
}

test('a camera crops the centre by default; crop: full, masks and regions are read', () => {
  assert.deepEqual(parseConfig(camera(''), { file: FILE, env: {} }).cameras[0]!.regions, []);
  const c = parseConfig(
    camera(
      '    crop: full\n    masks:\n      - { x: 0.8, y: 0, width: 0.2, height: 0.3 }\n    regions:\n' +
        '      - { name: bed_side, x: 0, y: 0.3, width: 0.5, height: 0.7 }\n' +
        '      - { name: door, x: 0.7, y: 0.3, width: 0.3, height: 0.7, masks: [{ x: 0.9, y: 0.9, width: 0.1, height: 0.1 }] }\n',
    ),
    { file: FILE, env: {} },
  ).cameras[0]!;
  assert.equal(c.crop, 'full');
  assert.deepEqual(c.masks, [{ x: 0.8, y: 0, width: 0.2, height: 0.3 }]);
  assert.deepEqual(c.regions, [
    { name: 'bed_side', x: 0, y: 0.3, width: 0.5, height: 0.7, masks: [] },
    { name: 'door', x: 0.7, y: 0.3, width: 0.3, height: 0.7, masks: [{ x: 0.9, y: 0.9, width: 0.1, height: 0.1 }] },
  ]);
});

test('a rectangle out of the frame, of zero size, a bad or duplicate name: each error names its path and line', () => {
  const issues = issuesOf(
    camera(
      '    crop: wide\n    masks:\n      - { x: -0.1, y: 0, width: 0.5, height: 0.5 }\n    regions:\n' +
        '      - { name: a, x: 0.6, y: 0, width: 0.5, height: 1 }\n' +
        '      - { name: b, x: 0, y: 0, width: 0, height: 1 }\n' +
        '      - { name: a, x: 0, y: 0.5, width: 1, height: 0.6 }\n' +
        '      - { name: "x/y", x: 0, y: 0, width: 1, height: 1 }\n' +
        '      - { name: events, x: 0, y: 0, width: 1, height: 1, colour: red }\n',
    ),
  );
  assert.deepEqual(issues.map((i) => i.split(': ')[0]), [
    'cameras/0/crop@4',
    'cameras/0/masks/0/x@6',
    'cameras/0/regions/0/width@8',
    'cameras/0/regions/1/width@9',
    'cameras/0/regions/2/height@10',
    'cameras/0/regions/2/name@10',
    'cameras/0/regions/3/name@11',
    'cameras/0/regions/4/name@12',
    'cameras/0/regions/4/colour@12',
  ]);
  const text = issues.join('\n');
  assert.match(text, /masks\/0\/x@6: x must be at least 0/);
  assert.match(text, /regions\/0\/width@8: x \+ width is 1\.1: the rectangle leaves the frame on the right/);
  assert.match(text, /regions\/1\/width@9: width must be above 0 \(an empty rectangle\)/);
  assert.match(text, /regions\/2\/height@10: y \+ height is 1\.1: the rectangle leaves the frame at the bottom/);
  assert.match(text, /regions\/2\/name@10: duplicate region name "a" \(also regions\[0\]\)/);
  assert.match(text, /regions\/3\/name@11: must be 1-64 letters/);
  assert.match(text, /regions\/4\/name@12: must not be one of events/);
  assert.match(text, /regions\/4\/colour@12: unknown key/);
  assert.match(text, /crop@4: .*"center"\|"full"/);
});

test('fractions that add up to 1 with a rounding error are inside the frame', () => {
  assert.deepEqual(issuesOf(camera('    regions:\n      - { name: r, x: 0.7, y: 0.1, width: 0.3, height: 0.9 }\n')), []);
});

test("a camera's frame streams: the whole camera with its crop and masks, or one letterboxed stream per region with the camera's masks and its own", () => {
  const parse = (extra: string) => parseConfig(camera(extra), { file: FILE, env: {} }).cameras[0]!;
  assert.deepEqual(cameraStreams(parse('')), [{ region: null, fit: 'center', masks: [] }]);
  const mask = { x: 0.8, y: 0, width: 0.2, height: 0.3 };
  assert.deepEqual(cameraStreams(parse('    crop: full\n    masks: [{ x: 0.8, y: 0, width: 0.2, height: 0.3 }]\n')), [{ region: null, fit: 'letterbox', masks: [mask] }]);
  const own = { x: 0.1, y: 0.5, width: 0.1, height: 0.1 };
  const c = parse(
    '    crop: center\n    masks: [{ x: 0.8, y: 0, width: 0.2, height: 0.3 }]\n    regions:\n' +
      '      - { name: a, x: 0, y: 0, width: 0.5, height: 1, masks: [{ x: 0.1, y: 0.5, width: 0.1, height: 0.1 }] }\n' +
      '      - { name: b, x: 0.5, y: 0, width: 0.5, height: 1 }\n',
  );
  assert.deepEqual(cameraStreams(c), [
    { region: 'a', rect: { x: 0, y: 0, width: 0.5, height: 1 }, fit: 'letterbox', masks: [mask, own] },
    { region: 'b', rect: { x: 0.5, y: 0, width: 0.5, height: 1 }, fit: 'letterbox', masks: [mask] },
  ]);
});

test("a region's own recognition is merged over its camera's and checked at the region's path; the frame interval stays the camera's", () => {
  const c = parseConfig(
    camera('    recognition: { start: 0.7 }\n    regions:\n      - { name: bed, x: 0, y: 0, width: 1, height: 1, recognition: { end: 0.5, min_clips: 3 } }\n'),
    { file: FILE, env: {} },
  );
  assert.deepEqual(c.cameras[0]!.regions[0]!.recognition, { end: 0.5, min_clips: 3 });
  const merged = effectiveSettings(c, c.cameras[0]!, c.cameras[0]!.regions[0]!).recognition;
  assert.deepEqual([merged.start, merged.end, merged.min_clips, merged.stride], [0.7, 0.5, 3, 4]);
  const issues = issuesOf(
    camera('    recognition: { start: 0.7 }\n    regions:\n      - { name: bed, x: 0, y: 0, width: 1, height: 1, recognition: { end: 0.8, frame_interval_ms: 100 } }\n'),
  );
  assert.deepEqual(issues.map((i) => i.split(': ')[0]), ['cameras/0/regions/0/recognition/frame_interval_ms@6', 'cameras/0/regions/0/recognition/end@6']);
  assert.match(issues[1]!, /end must not be above start/);
});
