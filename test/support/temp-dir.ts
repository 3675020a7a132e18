// Fresh temporary directories that are removed when the process exits: the tests used to leave
// hundreds of msta-* directories behind in /tmp.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made = new Set<string>();
let listening = false;

function removeAll(): void {
  for (const dir of made) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Best effort: a mount point still in use, say.
    }
  }
}

/** A new directory under os.tmpdir() named `prefix` + random characters, removed at exit. */
export function tempDir(prefix: string): string {
  if (!listening) {
    process.on('exit', removeAll);
    listening = true;
  }
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}
