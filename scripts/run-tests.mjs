#!/usr/bin/env node
// The one test command (README, .ci/run): the TypeScript suites through node's test runner
// (one file at a time: several suites start real servers and child processes), then
// training/'s pytest suite with Debian's python3 (it alone sees python3-torch).
// `npm test -- test/foo.test.ts` runs only the named files; `--no-python` skips pytest.
// A test past 5 minutes fails, and a file whose tests have ended exits even if a leaked handle
// (a child, a socket) would keep it open: a hang must fail CI, not stall it.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const skipPython = args.includes('--no-python');
const named = args.filter((a) => !a.startsWith('--'));

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return findTests(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const files = named.length > 0 ? named : findTests('test').sort();
const node = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=300000', '--test-force-exit', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
let status = node.status ?? 1;

if (!skipPython && named.length === 0) {
  const py = spawnSync('/usr/bin/python3', ['-m', 'pytest', '-q', 'tests'], {
    cwd: 'training',
    stdio: 'inherit',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  if ((py.status ?? 1) !== 0) status = py.status ?? 1;
}
process.exit(status);
