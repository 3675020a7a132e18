// `msta-edge --version` and `msta-edge <command> --help` as real processes: the help lists every
// option of the command's table, and asking for it runs nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { COMMANDS } from '../src/daemon/cli.js';
import { registerBuildInfo } from '../src/metrics/build-info.js';
import { runCliProcess } from './support/cli.js';

const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

test('--version prints the package version', async () => {
  for (const flag of ['--version', '-V']) {
    const r = await runCliProcess([flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `msta-edge ${VERSION}\n`);
  }
});

test('<command> --help lists each option of its table, exits 0 and runs nothing', { timeout: 120_000 }, async () => {
  const commands = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  const results = await Promise.all(commands.map((c) => runCliProcess([c.name, c.name === 'run' ? '-h' : '--help'], { timeoutMs: 60_000 })));
  commands.forEach((command, i) => {
    const r = results[i]!;
    assert.equal(r.code, 0, `${command.name}: ${r.stderr}`);
    assert.ok(r.stdout.startsWith(`usage: msta-edge ${command.name}`), r.stdout);
    assert.ok(r.stdout.includes(command.summary), `${command.name}: summary`);
    for (const [name, o] of Object.entries(command.options)) {
      const options = r.stdout.slice(r.stdout.indexOf('\noptions:\n')).split('\n');
      const line = options.find((l) => l.includes(`--${name}${o.value ? ` ${o.value}` : ''} `));
      assert.ok(line, `${command.name} --help lists --${name}:\n${r.stdout}`);
      assert.ok(line.includes(o.help), `${command.name} --${name}: ${line}`);
      if (o.short) assert.ok(line.includes(`-${o.short}, --${name}`), line);
      if (o.default !== undefined) assert.ok(line.includes(`default ${o.default}`), line);
    }
    assert.equal(r.stderr, '', `${command.name} --help started nothing`);
  });
  const top = await runCliProcess(['--help']);
  assert.equal(top.code, 0);
  for (const c of commands) assert.match(top.stdout, new RegExp(`^  ${c.name} +${c.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  const unknown = await runCliProcess(['check-config', '--colour']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /check-config: .*--colour/);
});

test('msta_build_info is 1 with the version and Node.js as labels', async () => {
  const registry = new Registry();
  registerBuildInfo(registry, { version: VERSION, node: process.version });
  assert.match(await registry.metrics(), new RegExp(`^msta_build_info\\{version="${VERSION.replace(/\./g, '\\.')}",node="${process.version.replace(/\./g, '\\.')}"\\} 1$`, 'm'));
});
