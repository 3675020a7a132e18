// systemd/msta-edge.service through systemd's own tools (systemd-analyze verify and security),
// and the directives the daemon and systemd/README.md rely on. Nothing here starts the unit: no
// systemd runs as PID 1 on the test machines (sd_notify itself: test/sd-notify.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '../src/config/load-config.js';
import { tempDir } from './support/temp-dir.js';

const UNIT = 'systemd/msta-edge.service';
const EXEC_START = 'ExecStart=/usr/bin/msta-edge ';
const NO_ANALYZE = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0 ? undefined : 'systemd-analyze not installed (Debian package systemd)';

/** The unit's directives: section -> key -> values (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(\w+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(current && eq > 0, `${UNIT}: "${line}" outside a section or without "="`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

/**
 * A copy of the unit for systemd-analyze, whose verify insists that ExecStart's binary exists:
 * /usr/bin/msta-edge (installed by systemd/README.md) becomes /usr/bin/env; nothing else changes.
 */
function verifiableCopy(extra = ''): string {
  const text = readFileSync(UNIT, 'utf8');
  assert.equal(text.split(EXEC_START).length, 2, `exactly one ${EXEC_START.trim()} line`);
  const dir = tempDir('msta-unit-');
  const file = join(dir, 'msta-edge.service');
  writeFileSync(file, text.replace(EXEC_START, 'ExecStart=/usr/bin/env ').replace('[Service]\n', `[Service]\n${extra}`));
  return file;
}

function analyze(...args: string[]): { status: number | null; lines: string[] } {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, lines: `${r.stdout}${r.stderr}`.split('\n').filter(Boolean) };
}

test('systemd-analyze verify accepts the unit: exit 0 and no complaint about any of its lines', { skip: NO_ANALYZE }, () => {
  const file = verifiableCopy();
  const run = analyze('verify', '--man=no', file);
  assert.equal(run.status, 0, run.lines.join('\n'));
  // Unknown keys and unparsable values are printed as "<file>:<line>: ..." and still exit 0;
  // unit-level problems (a missing binary) as "msta-edge.service: ...". Lines about the machine
  // (no systemd as PID 1) name neither.
  const complaints = run.lines.filter((l) => l.includes(file) || l.startsWith('msta-edge.service:'));
  assert.deepEqual(complaints, []);
});

test('the verify check catches mistakes: a misspelt key and a bad value are reported against the file', { skip: NO_ANALYZE }, () => {
  const file = verifiableCopy('WatchDogSecs=30\nRestart=sometimes\n');
  const run = analyze('verify', '--man=no', file);
  const complaints = run.lines.filter((l) => l.includes(file));
  assert.equal(complaints.length, 2, run.lines.join('\n'));
  assert.match(complaints.join('\n'), /Unknown key 'WatchDogSecs'/);
  assert.match(complaints.join('\n'), /sometimes/);
});

test('systemd-analyze security rates the unit\'s exposure below 2.0 (OK)', { skip: NO_ANALYZE }, () => {
  const run = analyze('security', '--offline=yes', verifiableCopy());
  const overall = run.lines.map((l) => /Overall exposure level for msta-edge\.service: ([\d.]+)/.exec(l)).find(Boolean);
  assert.ok(overall, run.lines.slice(-5).join('\n'));
  assert.ok(Number(overall[1]) < 2, `exposure ${overall[1]}`);
});

test('the unit has what the daemon and the README rely on', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  const one = (section: string, key: string): string | undefined => {
    const values = unit.get(section)?.get(key);
    assert.ok(!values || values.length === 1, `${section}.${key} is set once`);
    return values?.[0];
  };
  const all = (section: string, key: string): string[] => unit.get(section)?.get(key) ?? [];
  assert.equal(one('Service', 'ExecStart'), '/usr/bin/msta-edge run --config /etc/msta-edge/config.yaml');
  assert.equal(one('Service', 'Type'), 'notify');
  assert.equal(one('Service', 'NotifyAccess'), 'main');
  assert.equal(one('Service', 'WatchdogSec'), '30');
  assert.equal(one('Service', 'Restart'), 'on-failure');
  assert.ok(Number(one('Unit', 'StartLimitBurst')) > 1);
  assert.ok(Number(one('Unit', 'StartLimitIntervalSec')) > 0);
  // SIGKILL must not come before the daemon's own shutdown timeout has run out.
  const stop = Number(one('Service', 'TimeoutStopSec'));
  assert.ok(stop > defaultConfig().shutdown_timeout_s && stop <= defaultConfig().shutdown_timeout_s * 3, `TimeoutStopSec=${stop}`);
  assert.equal(one('Service', 'KillMode'), 'mixed', 'SIGTERM to the daemon only: it stops its camera children in order');
  assert.equal(one('Service', 'DynamicUser'), 'yes');
  assert.equal(one('Service', 'StateDirectory'), 'msta-edge');
  assert.equal(one('Service', 'CacheDirectory'), 'msta-edge');
  assert.equal(one('Service', 'ConfigurationDirectory'), 'msta-edge');
  assert.equal(one('Service', 'ProtectSystem'), 'strict');
  assert.equal(one('Service', 'ProtectHome'), 'yes');
  assert.equal(one('Service', 'PrivateTmp'), 'yes');
  assert.equal(one('Service', 'NoNewPrivileges'), 'yes');
  assert.equal(one('Service', 'EnvironmentFile'), '-/etc/msta-edge/env');
  assert.deepEqual(one('Service', 'SupplementaryGroups')?.split(/\s+/), ['video', 'render']);
  assert.deepEqual(one('Service', 'RestrictAddressFamilies')?.split(/\s+/).sort(), ['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_UNIX']);
  const devices = all('Service', 'DeviceAllow').map((d) => d.split(/\s+/)[0]);
  for (const d of ['char-video4linux', 'char-nvidia*', 'char-nvhost*']) assert.ok(devices.includes(d), `DeviceAllow=${d}`);
  assert.equal(one('Service', 'DevicePolicy'), 'closed');
  // V8's JIT needs writable+executable memory.
  assert.equal(one('Service', 'MemoryDenyWriteExecute'), undefined);
  assert.equal(one('Install', 'WantedBy'), 'multi-user.target');
});
