// A region's own labels, merged over its camera's by the camera's rule: the merge, the label sets
// prepared per region (equal sets shared by content), check-config naming the region's block, and
// the sink's per-region labels (active topics, Home Assistant event_types, removed sensors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../src/config/config-error.js';
import { effectiveSettings } from '../src/config/effective-settings.js';
import { parseConfig } from '../src/config/load-config.js';
import { prepareConfig } from '../src/daemon/validate-config.js';
import { labelSetKey } from '../src/daemon/recognizer.js';
import { CameraLabels } from '../src/sink/camera-labels.js';
import { discoveryConfigs, type RetainedMessage } from '../src/sink/discovery.js';
import { HomeAssistantDiscovery } from '../src/sink/home-assistant.js';
import { RetainedState } from '../src/sink/retained-state.js';
import { sinkTopics } from '../src/sink/topics.js';
import { runCliProcess } from './support/cli.js';
import { tempDir } from './support/temp-dir.js';

const FILE = '/etc/msta-edge/config.yaml';
const parse = (text: string) => parseConfig(text, { file: FILE, env: {} });

const ROOM = [
  'labels: { actions: [waving], background: nothing }',
  'cameras:',
  '  - id: room',
  '    url: test://smpte',
  '    labels: { actions: [clapping, nothing], template: "a video of {}" }',
  '    regions:',
  '      - { name: bed, x: 0, y: 0, width: 0.5, height: 1, labels: { actions: [falling down] } }',
  '      - { name: door, x: 0.5, y: 0, width: 0.5, height: 1, labels: { template: "a clip of {}" } }',
  '      - { name: desk, x: 0.5, y: 0, width: 0.5, height: 0.5 }',
  '',
].join('\n');

test("a region's labels merge over its camera's: a list replaces the camera's, template and background replace key by key", () => {
  const c = parse(ROOM);
  const cam = c.cameras[0]!;
  const [bed, door, desk] = cam.regions;
  const bedLabels = effectiveSettings(c, cam, bed).labels;
  assert.deepEqual(bedLabels.actions, ['falling down'], "the region's list, nothing appended");
  assert.deepEqual(bedLabels.files, [], "the camera's files are not kept when the region names actions");
  assert.equal(bedLabels.template, 'a video of {}', "the camera's template is kept");
  assert.equal(bedLabels.background, 'nothing', 'the global background is kept');
  const doorLabels = effectiveSettings(c, cam, door).labels;
  assert.deepEqual(doorLabels.actions, ['clapping', 'nothing'], "a template alone keeps the camera's list");
  assert.equal(doorLabels.template, 'a clip of {}');
  assert.deepEqual(effectiveSettings(c, cam, desk).labels, effectiveSettings(c, cam).labels, 'a region without labels has its camera\'s');
});

test('prepareConfig: each region has its label set; without labels its camera\'s object; equal content shares a key', async () => {
  const dir = tempDir('msta-rlabels-');
  writeFileSync(join(dir, 'fall.txt'), 'falling down\n');
  const prepared = await prepareConfig(
    parse(
      ROOM +
        [
          '  - id: hall',
          '    url: test://smpte',
          '    regions:',
          `      - { name: stairs, x: 0, y: 0, width: 1, height: 1, labels: { files: [${join(dir, 'fall.txt')}], template: "a video of {}" } }`,
          '',
        ].join('\n'),
    ),
    'test',
  );
  const sets = prepared.regionLabelSets;
  assert.deepEqual([...sets.keys()].sort(), ['hall/stairs', 'room/bed', 'room/desk', 'room/door']);
  assert.equal(sets.get('room/desk'), prepared.cameraLabelSets.get('room'));
  // The background label is scored with the others (never reported).
  assert.deepEqual(sets.get('room/bed')!.labels.map((l) => l.name), ['falling down', 'nothing']);
  assert.deepEqual(sets.get('room/door')!.labels.map((l) => l.name), ['clapping', 'nothing']);
  assert.notEqual(labelSetKey(sets.get('room/door')!), labelSetKey(prepared.cameraLabelSets.get('room')!), 'another template: another embedding');
  // A file in one camera's region, inline actions in another's (the same template): one content, one key, one embedding.
  assert.equal(labelSetKey(sets.get('hall/stairs')!), labelSetKey(sets.get('room/bed')!));
});

test("schema errors in a region's labels carry the region's path", () => {
  try {
    parse(ROOM.replace('labels: { template: "a clip of {}" }', 'labels: { template: "no slot", colour: red }'));
    assert.fail('accepted');
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    const paths = e.issues.map((i) => i.path.join('.'));
    assert.ok(paths.includes('cameras.0.regions.1.labels.template'), paths.join(', '));
    assert.ok(paths.some((p) => p.startsWith('cameras.0.regions.1.labels')) && paths.length === 2, paths.join(', '));
  }
});

test("check-config exits 2 naming the region's labels block for its missing label file; ok names the region's own labels", async () => {
  const dir = tempDir('msta-rlabels-');
  writeFileSync(join(dir, 'ok.txt'), 'falling down\n');
  const file = join(dir, 'config.yaml');
  const config = (files: string) =>
    [
      'cameras:',
      '  - id: room',
      '    url: test://smpte',
      '    regions:',
      '      - { name: bed, x: 0, y: 0, width: 0.5, height: 1 }',
      `      - { name: door, x: 0.5, y: 0, width: 0.5, height: 1, labels: { files: [${files}] } }`,
      '',
    ].join('\n');
  writeFileSync(file, config('missing.txt'));
  const bad = await runCliProcess(['check-config', '--config', file]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /cameras\[0\]\.regions\[1\]\.labels: .*missing\.txt/);
  assert.doesNotMatch(bad.stderr, /cameras\[0\]\.labels: /, "the camera's labels are fine");
  assert.doesNotMatch(bad.stderr, /cameras\[0\]\.regions\[0\]/, 'the other region is fine');
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
  // Relative to the config file, like the camera's and the global label files.
  writeFileSync(file, config('ok.txt'));
  const ok = await runCliProcess(['check-config', '--config', file]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /ok, 1 camera\(s\): room \(test:\/\/smpte, region door: 1 label\(s\) of its own\)/, 'the region with labels of its own is named, the other not');
});

test("the sink's labels per region: its own, else its camera's; a reload reports the streams that changed", () => {
  const labels = new CameraLabels({ labels: ['waving'] }, { room: { labels: ['clapping'] }, 'room/bed': { labels: ['falling down', 'nothing'], background: 'nothing' } });
  assert.deepEqual(labels.of('room', 'bed'), ['falling down'], 'the background label is not reportable');
  assert.deepEqual(labels.of('room', 'door'), ['clapping']);
  assert.deepEqual(labels.of('room'), ['clapping']);
  assert.deepEqual(labels.of('hall', 'x'), ['waving']);
  const streams = [['room', 'bed'], ['room', 'door'], ['hall', null]] as const;
  const changes = labels.update({ labels: ['waving'] }, { room: { labels: ['clapping'] }, 'room/bed': { labels: ['sitting down'] }, 'room/door': { labels: ['clapping'] } }, streams);
  assert.deepEqual([...changes], [['room', new Map([['bed', ['falling down']]])]], 'only the bed changed');
  labels.forget('room');
  assert.deepEqual(labels.of('room', 'bed'), ['waving'], "a camera forgotten: its regions' labels too");
});

test('Home Assistant per region: event_types, enum options and binary sensors are the region\'s; a label a region loses is removed there only', () => {
  const t = sinkTopics();
  const own: Record<string, readonly string[]> = { bed: ['falling down'], door: ['waving', 'clapping'] };
  const configs = discoveryConfigs(t, 'room', (region) => own[region!]!, {}, ['bed', 'door']);
  const payload = (objectId: string) => JSON.parse(configs.find((c) => c.topic.includes(`/${objectId}/`))!.payload) as Record<string, unknown>;
  assert.deepEqual(payload('room_bed_action').event_types, ['falling down']);
  assert.deepEqual(payload('room_door_action').event_types, ['waving', 'clapping']);
  assert.deepEqual(payload('room_bed_current_action').options, ['falling down', 'none']);
  const sensors = configs.filter((c) => c.topic.includes('/binary_sensor/')).map((c) => c.topic.split('/')[3]);
  assert.deepEqual(sensors, ['room_bed_falling_down_ddb1ef1b_active', 'room_door_waving_active', 'room_door_clapping_active']);

  const published: RetainedMessage[] = [];
  const deps = {
    topics: t,
    publish: (m: RetainedMessage) => published.push(m),
    cameras: () => ['room'],
    streams: () => ['bed', 'door'],
    labelsOf: (_camera: string, region: string | null) => own[region!]!,
    extraTopics: () => [],
    log: { info: () => undefined },
  };
  const discovery = new HomeAssistantDiscovery(deps);
  const retained = new RetainedState(deps, ['room'], { room: ['bed', 'door'] });
  own.door = ['waving'];
  const before = new Map([['door', ['waving', 'clapping']]]);
  discovery.relabel('room', before);
  retained.relabel('room', before);
  const cleared = published.filter((m) => m.payload === '').map((m) => m.topic);
  assert.deepEqual(cleared, [t.discoveryConfig('binary_sensor', 'room_door_clapping_active'), t.active('room', 'clapping', 'door')]);
  const doorEvent = published.find((m) => m.topic === t.discoveryConfig('event', 'room_door_action'))!;
  assert.deepEqual((JSON.parse(doorEvent.payload) as { event_types: string[] }).event_types, ['waving'], 're-announced with the region\'s labels now');
});
