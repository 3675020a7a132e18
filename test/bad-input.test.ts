// Bad input through the real CLI: each case exits with the right status, names what is wrong (the
// config key, flag or file), prints no stack trace and no secret. Most go through check-config,
// which must refuse exactly what run refuses; a few go through run, which refuses before it
// connects to anything; the last one sends SIGHUP with invalid configs to a running daemon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { runCliProcess } from './support/cli.js';
import { DaemonProcess, type LogLine } from './support/daemon-process.js';
import { tempDir } from './support/temp-dir.js';

const BUNDLE = resolve('models/synthetic-actions');
const LATIN1 = Buffer.from('caf\xe9 au lait\n', 'latin1');
const LONG = 'x'.repeat(201);

interface Case {
  name: string;
  /** Files written into the case's own folder (paths relative to it). */
  files?: Record<string, string | Buffer>;
  /** The config file's text (written as c.yaml), for check-config. */
  config?: string | Buffer;
  /** Instead of check-config: these arguments ({dir} is the case's folder). */
  args?: string[];
  code?: number;
  /** What the message must say: the key or file and the reason. */
  says: RegExp;
}

const yaml = (body: string): string => `http:\n  listen: 127.0.0.1:0\n${body}`;
const withBundle = (bundle: string, body = ''): string => yaml(`model:\n  bundle: ${bundle}\n${body}`);

const cases: Case[] = [
  // The config file itself.
  { name: 'missing config file', args: ['check-config', '--config', '{dir}/none.yaml'], says: /CONFIG_NOT_FOUND: .*none\.yaml: no such file/ },
  { name: 'YAML syntax error', config: 'cameras: [\n', says: /YAML: .*\(line \d\)/ },
  { name: 'YAML alias bomb', config: 'a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n', says: /YAML: Excessive alias count/ },
  { name: 'config not UTF-8', config: Buffer.concat([Buffer.from('labels:\n  actions: ['), LATIN1.subarray(0, 4), Buffer.from(']\n')]), says: /CONFIG_UNREADABLE: .*c\.yaml:2: not UTF-8 text/ },
  { name: 'unknown key', config: yaml('cameras:\n  - id: a\n    url: test://ball\n    colour: red\n'), says: /cameras\[0\]\.colour: unknown key \(line 6\)/ },
  { name: 'unset environment variable', config: yaml('mqtt:\n  url: ${NO_SUCH_BROKER_VAR}\n'), says: /mqtt\.url: environment variable NO_SUCH_BROKER_VAR is not set/ },
  { name: 'hysteresis inverted', config: yaml('recognition:\n  start: 0.3\n  end: 0.5\n'), says: /recognition\.end: end must not be above start/ },
  { name: 'duplicate camera id', config: yaml('cameras:\n  - id: a\n    url: test://ball\n  - id: a\n    url: test://smpte\n'), says: /cameras\[1\]\.id: duplicate camera id "a"/ },
  { name: 'camera id with a slash', config: yaml('cameras:\n  - id: a/b\n    url: test://ball\n'), says: /cameras\[0\]\.id: must be 1-64 letters/ },
  // Camera URLs: the source's own parser, through the config.
  { name: 'rtsp:// without a host', config: yaml('cameras:\n  - id: a\n    url: "rtsp://"\n'), says: /cameras\[0\]\.url: RTSP URL without a host/ },
  { name: 'unknown test pattern', config: yaml('cameras:\n  - id: a\n    url: test://nosuchpattern\n'), says: /cameras\[0\]\.url: unknown test pattern "nosuchpattern"/ },
  { name: 'unsupported scheme, password hidden', config: yaml('cameras:\n  - id: a\n    url: http://u:hunter2@cam/x\n'), says: /cameras\[0\]\.url: unsupported scheme "http".*u:\*\*\*@cam/ },
  { name: 'relative path as camera', config: yaml('cameras:\n  - id: a\n    url: not a url\n'), says: /cameras\[0\]\.url: must be a URL .* or an absolute file path/ },
  { name: 'file URL with a host', config: yaml('cameras:\n  - id: a\n    url: file://host/x.mp4\n'), says: /cameras\[0\]\.url: file URL with a host/ },
  { name: 'V4L2 URL without a device', config: yaml('cameras:\n  - id: a\n    url: v4l2://video0\n'), says: /cameras\[0\]\.url: V4L2 URL must name a device/ },
  { name: 'test fps out of range', config: yaml('cameras:\n  - id: a\n    url: test://ball?fps=0\n'), says: /cameras\[0\]\.url: fps must be an integer 1-240/ },
  { name: 'missing media file', config: yaml('cameras:\n  - id: a\n    url: /nonexistent/clip.mp4\n'), says: /cameras\[0\]\.url: \/nonexistent\/clip\.mp4: no such file/ },
  { name: 'media path is a folder', files: { 'media/.keep': '' }, config: yaml('cameras:\n  - id: a\n    url: file://{dir}/media\n'), says: /cameras\[0\]\.url: .*media: not a regular file/ },
  { name: 'url_file missing', config: yaml('cameras:\n  - id: a\n    url_file: cam.url\n'), says: /cameras\[0\]\.url_file: .*cam\.url: no such file/ },
  { name: 'url_file holds a bad URL, password hidden', files: { 'cam.url': 'rtsp://admin:hunter2@\n' }, config: yaml('cameras:\n  - id: a\n    url_file: cam.url\n'), says: /cameras\[0\]\.url_file: .*cam\.url: (RTSP URL without a host|malformed URL)/ },
  { name: 'url_file not UTF-8', files: { 'cam.url': LATIN1 }, config: yaml('cameras:\n  - id: a\n    url_file: cam.url\n'), says: /cameras\[0\]\.url_file: .*cam\.url: not UTF-8 text/ },
  // Label files and label sets.
  { name: 'missing label file', config: yaml('labels:\n  files: [nope.txt]\n'), says: /labels: .*nope\.txt: label file: no such file/ },
  { name: 'empty label set', files: { 'l.txt': '# nothing\n\n' }, config: yaml('labels:\n  files: [l.txt]\n'), says: /labels: the label set is empty/ },
  { name: 'duplicate label in a file', files: { 'l.txt': 'waving\nrunning\nwaving\n' }, config: yaml('labels:\n  files: [l.txt]\n'), says: /l\.txt:3: duplicate label "waving" \(also at .*l\.txt:1\)/ },
  { name: 'duplicate label across file and config', files: { 'l.txt': 'waving\n' }, config: yaml('labels:\n  files: [l.txt]\n  actions: [Waving]\n'), says: /labels\.actions\[0\]: label "Waving" reads the same as "waving"/ },
  { name: 'label threshold out of range (file)', files: { 'l.yaml': '- name: waving\n  threshold: 1.5\n' }, config: yaml('labels:\n  files: [l.yaml]\n'), says: /l\.yaml:2: action 1 threshold: .*1/ },
  { name: 'label threshold out of range (config)', config: yaml('labels:\n  actions:\n    - name: waving\n      threshold: 2\n'), says: /labels\.actions\[0\]\.threshold: .*1/ },
  { name: 'label file not UTF-8', files: { 'l.txt': Buffer.concat([Buffer.from('waving\n'), LATIN1]) }, config: yaml('labels:\n  files: [l.txt]\n'), says: /l\.txt:2: label file: not UTF-8 text/ },
  { name: 'label name too long', files: { 'l.txt': `waving\n${LONG}\n` }, config: yaml('labels:\n  files: [l.txt]\n'), says: /l\.txt:2: label name of 201 characters \(at most 200\)/ },
  { name: 'description too long', files: { 'l.yaml': `- name: waving\n  descriptions: [${'y'.repeat(1001)}]\n` }, config: yaml('labels:\n  files: [l.yaml]\n'), says: /l\.yaml:1: label "waving" has a description of 1001 characters \(at most 1000\)/ },
  { name: 'label YAML syntax error', files: { 'l.yaml': '- name: [waving\n' }, config: yaml('labels:\n  files: [l.yaml]\n'), says: /l\.yaml:\d+: not valid YAML/ },
  { name: 'label YAML alias bomb', files: { 'l.yaml': 'template: &a "{}"\nactions: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n' }, config: yaml('labels:\n  files: [l.yaml]\n'), says: /l\.yaml:1: not valid YAML: Excessive alias count/ },
  { name: 'template without {}', config: yaml('labels:\n  template: a video\n  actions: [waving]\n'), says: /labels\.template: must contain \{\}/ },
  // Where run writes: the spool and the event database.
  { name: 'spool dir is a file', files: { 'spool': 'x' }, config: yaml('mqtt:\n  spool:\n    dir: spool/q\n'), says: /mqtt\.spool\.dir: .*spool is not a directory/ },
  { name: 'events.path is a directory', files: { 'events.db/.keep': '' }, config: yaml('events:\n  path: events.db\n'), says: /events\.path: .*events\.db is a directory, not a database file/ },
  { name: 'events folder under a file', files: { 'a-file': 'x' }, config: yaml('events:\n  path: a-file/history/events.db\n'), says: /events\.path: .*a-file is not a directory/ },
  // Model bundles.
  { name: 'bundle folder missing', config: withBundle('{dir}/nowhere'), says: /model\.bundle: .*nowhere\/bundle\.json: no bundle\.json/ },
  { name: 'bundle.json not JSON', files: { 'b/bundle.json': '{ nope' }, config: withBundle('{dir}/b'), says: /model\.bundle: .*b\/bundle\.json: not valid JSON/ },
  { name: 'bundle manifest incomplete', files: { 'b/bundle.json': '{"format": "msta-bundle/1", "name": "x"}' }, config: withBundle('{dir}/b'), says: /model\.bundle: .*bundle\.json: backbone: / },
  { name: 'bundle file corrupted', config: withBundle('{bundle}'), says: /model\.bundle: .*text\.onnx: sha256 expected [0-9a-f]{64} \(bundle\.json\), found/ },
  { name: 'bundle file missing', config: withBundle('{bundle-missing}'), says: /model\.bundle: .*video\.onnx: missing or unreadable \(ENOENT\)/ },
  // TLS files and secret files.
  { name: 'TLS CA file missing', config: yaml('mqtt:\n  url: mqtts://broker.example:8883\n  tls:\n    ca: ca.pem\n'), says: /mqtt\.tls\.ca: .*ca\.pem: no such file/ },
  { name: 'TLS certificate not PEM', files: { 'cert.pem': 'not a certificate\n', 'key.pem': 'nor a key\n' }, config: yaml('mqtt:\n  url: mqtts://broker.example:8883\n  tls:\n    cert: cert.pem\n    key: key.pem\n'), says: /mqtt\.tls\.cert: .*cert\.pem: not a PEM certificate[\s\S]*mqtt\.tls\.key: .*key\.pem: not a PEM private key/ },
  { name: 'TLS certificate without a key', files: { 'cert.pem': 'x' }, config: yaml('mqtt:\n  url: mqtts://broker.example:8883\n  tls:\n    cert: cert.pem\n'), says: /mqtt\.tls\.key: a client certificate needs both cert and key/ },
  { name: 'password file missing', config: yaml('mqtt:\n  url: mqtt://broker.example\n  username: u\n  password_file: pw\n'), says: /mqtt\.password_file: .*pw: no such file/ },
  { name: 'password file not UTF-8', files: { pw: LATIN1 }, config: yaml('mqtt:\n  url: mqtt://broker.example\n  username: u\n  password_file: pw\n'), says: /mqtt\.password_file: .*pw: not UTF-8 text/ },
  // Broker URLs.
  { name: 'broker URL with bad percent-encoding', config: yaml('mqtt:\n  url: "mqtt://u:p%zz@broker.example"\n'), says: /mqtt\.url: the password in the URL is not valid percent-encoding/ },
  { name: 'broker URL with the wrong scheme', config: yaml('mqtt:\n  url: http://broker.example\n'), says: /mqtt\.url: must be an mqtt:\/\// },
  // Listen addresses.
  { name: 'listen port out of range', config: 'http:\n  listen: 127.0.0.1:99999\n', says: /http\.listen: port 99999 is out of range \(0-65535\) \(line 2\)/ },
  { name: 'listen without a port', config: 'http:\n  listen: nowhere\n', says: /http\.listen: must be HOST:PORT/ },
  { name: 'listen host unknown', config: 'http:\n  listen: no-such-host.invalid:9464\n', says: /http\.listen: host "no-such-host\.invalid" does not resolve/ },
  { name: 'listen host not on this machine', config: 'http:\n  listen: 192.0.2.1:9464\n', says: /http\.listen: host "192\.0\.2\.1" .* is not an address of this machine/ },
  // run refuses the same, before it connects (the broker address below has nobody listening).
  { name: 'run: --mqtt-url with bad percent-encoding', args: ['run', '--camera', 'a=test://ball', '--http', '127.0.0.1:0', '--mqtt-url', 'mqtt://u:p%zz@127.0.0.1:1'], says: /--mqtt-url: the password in the URL is not valid percent-encoding/ },
  { name: 'run: --http port out of range', args: ['run', '--camera', 'a=test://ball', '--http', '127.0.0.1:99999'], says: /--http: port 99999 is out of range/ },
  { name: 'run: --camera rtsp:// without a host', args: ['run', '--camera', 'a=rtsp://', '--http', '127.0.0.1:0'], says: /--camera\[0\]\.url: RTSP URL without a host/ },
  { name: 'run: --labels-file missing', args: ['run', '--camera', 'a=test://ball', '--http', '127.0.0.1:0', '--mqtt-url', 'mqtt://127.0.0.1:1', '--labels-file', '{dir}/none.txt'], says: /labels: .*none\.txt: label file: no such file/ },
  { name: 'run: config with a missing TLS file', config: yaml('cameras:\n  - id: a\n    url: test://ball\nmqtt:\n  url: mqtts://127.0.0.1:1\n  tls:\n    ca: ca.pem\n'), args: ['run', '--config', '{dir}/c.yaml'], says: /mqtt\.tls\.ca: .*ca\.pem: no such file/ },
  { name: 'run: unknown flag', args: ['run', '--camra', 'a=test://ball'], says: /CLI_USAGE: run: Unknown option '--camra'/ },
];

/** A copy of the test bundle with one file changed or removed. */
function brokenBundle(root: string, how: 'corrupt' | 'missing'): string {
  const dir = join(root, `bundle-${how}`);
  cpSync(BUNDLE, dir, { recursive: true });
  if (how === 'corrupt') appendFileSync(join(dir, 'text.onnx'), 'x');
  else rmSync(join(dir, 'video.onnx'));
  return dir;
}

test(`${cases.length} kinds of bad input: exit 2, the key or file named, no stack trace, no secret`, { timeout: 240_000, concurrency: 4 }, async (t) => {
  assert.ok(cases.length >= 40);
  const root = tempDir('msta-bad-input-');
  const bundles = { '{bundle}': brokenBundle(root, 'corrupt'), '{bundle-missing}': brokenBundle(root, 'missing') };
  await Promise.all(
    cases.map((c, i) =>
      t.test(c.name, async () => {
        const dir = join(root, String(i));
        mkdirSync(dir);
        const fill = (s: string): string => Object.entries(bundles).reduce((acc, [k, v]) => acc.replaceAll(k, v), s.replaceAll('{dir}', dir));
        for (const [name, content] of Object.entries(c.files ?? {})) {
          mkdirSync(join(dir, name, '..'), { recursive: true });
          writeFileSync(join(dir, name), content);
        }
        if (c.config !== undefined) writeFileSync(join(dir, 'c.yaml'), typeof c.config === 'string' ? fill(c.config) : c.config);
        const args = (c.args ?? ['check-config', '--config', '{dir}/c.yaml']).map(fill);
        const r = await runCliProcess(args, { timeoutMs: 60_000 });
        const output = r.stderr + r.stdout;
        assert.equal(r.code, c.code ?? 2, output);
        assert.match(output, c.says);
        assert.doesNotMatch(output, /\n\s+at /, 'no stack trace');
        assert.doesNotMatch(output, /hunter2/, 'no secret');
      }),
    ),
  );
});

test('run with the HTTP port already in use: one line naming http.listen, exit 1 (systemd retries: the port may free up)', { timeout: 60_000 }, async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const { port } = blocker.address() as { port: number };
  try {
    const r = await runCliProcess(['run', '--camera', 'a=test://ball', '--http', `127.0.0.1:${port}`]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`HTTP_LISTEN_FAILED: http\\.listen: cannot listen on 127\\.0\\.0\\.1:${port}: the address is already in use`));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    blocker.close();
  }
});

test('SIGHUP with an invalid config: refused with the key named, before anything running is touched; an edited label file is applied', { timeout: 120_000 }, async () => {
  const dir = tempDir('msta-bad-reload-');
  const file = join(dir, 'c.yaml');
  const write = (body: string): void => writeFileSync(file, `http:\n  listen: 127.0.0.1:0\nlogging:\n  format: json\n  level: debug\nmodel:\n  bundle: ${BUNDLE}\n  providers: [cpu]\n${body}`);
  write('cameras:\n  - id: a\n    url: test://ball\nlabels:\n  actions: [red ball moving left, blue ball growing]\n');
  const daemon = DaemonProcess.start(['--config', file]);
  try {
    await daemon.waitForLine((l) => l.msg === 'camera streaming' && l.camera === 'a', 90_000, 'camera a streaming');
    const rejected = (): LogLine[] => daemon.lines.filter((l) => l.msg === 'SIGHUP: new config rejected, keeping the running one');
    const reloadWith = async (body: string): Promise<string> => {
      const before = rejected().length;
      write(body);
      daemon.child.kill('SIGHUP');
      await daemon.waitForLine(() => rejected().length > before, 30_000, 'rejection');
      return JSON.stringify(rejected().at(-1)!.issues);
    };
    // The camera changes too: a reload that got past validation would restart it.
    assert.match(await reloadWith('cameras:\n  - id: a\n    url: "rtsp://"\n'), /cameras\[0\]\.url: RTSP URL without a host/);
    assert.match(await reloadWith('cameras:\n  - id: a\n    url: test://smpte\nlabels:\n  files: [nope.txt]\n'), /labels: .*nope\.txt: label file: no such file/);
    assert.match(await reloadWith(`cameras:\n  - id: a\n    url: test://smpte\nlabels:\n  actions: [waving, ${LONG}]\n`), /labels\.actions\[1\]: label name of 201 characters/);
    assert.deepEqual(daemon.lines.filter((l) => /camera (changed|removed|started)|labels reloaded/.test(l.msg)), [], 'nothing running was touched');
    assert.equal(daemon.lines.filter((l) => l.msg === 'source child started' && l.camera === 'a').length, 1, 'camera a kept its source process');
    // Then a valid one: the same config text naming a label file, then only the file edited.
    writeFileSync(join(dir, 'labels.txt'), 'red ball moving left\n');
    write('cameras:\n  - id: a\n    url: test://ball\nlabels:\n  files: [labels.txt]\n');
    daemon.child.kill('SIGHUP');
    assert.equal((await daemon.waitForLine((l) => l.msg === 'labels reloaded', 30_000, 'labels reloaded')).labels, 1);
    writeFileSync(join(dir, 'labels.txt'), 'red ball moving left\nblue ball growing\nred ball moving up\n');
    daemon.child.kill('SIGHUP');
    await daemon.waitForLine((l) => l.msg === 'labels reloaded' && l.labels === 3, 30_000, 'the edited label file reloaded');
    assert.equal(daemon.lines.filter((l) => l.msg === 'source child started' && l.camera === 'a').length, 1, 'camera a still on its first source process');
  } finally {
    await daemon.stop('SIGKILL');
  }
});
