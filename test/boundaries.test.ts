// Stages never import each other: only src/daemon/ wires them. Shared modules at src/*.ts are
// open to every stage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve('src');
const STAGES = ['source', 'clip', 'model', 'recognize', 'sink', 'metrics', 'config', 'events', 'api'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The top folder under src/ a file belongs to, or '' for shared modules at src/*.ts. */
function area(file: string): string {
  const rel = relative(SRC, file).split('/');
  return rel.length > 1 ? rel[0]! : '';
}

export function violations(files: string[], read: (f: string) => string): string[] {
  const found: string[] = [];
  for (const file of files) {
    const from = area(file);
    if (!STAGES.includes(from)) continue;
    for (const m of read(file).matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
      const target = resolve(dirname(file), m[1]!);
      const to = area(target);
      if (to !== '' && to !== from) found.push(`${relative(SRC, file)} imports ${m[1]} (${to}/)`);
    }
  }
  return found;
}

test('stages import only their own folder and the shared modules', () => {
  assert.deepEqual(violations(tsFiles(SRC), (f) => readFileSync(f, 'utf8')), []);
});

test('the check catches a stage importing another', () => {
  const files = [join(SRC, 'clip', 'x.ts')];
  const bad = violations(files, () => "import { y } from '../source/y.js';\nimport { Frame } from '../types.js';");
  assert.deepEqual(bad, ['clip/x.ts imports ../source/y.js (source/)']);
});
