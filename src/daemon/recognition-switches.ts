// Which cameras have recognition switched off (`<base>/<camera>/recognition/set OFF`), kept in a
// small JSON file beside the spool so that a restart keeps the switch where the user left it.
// Written to a temporary file, fsync'd and renamed: the file is the old or the new list, never half.
import { mkdirSync, openSync, readFileSync, renameSync, writeSync, fsyncSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { MstaError } from '../errors.js';

interface SwitchFile {
  /** Camera ids whose recognition is paused. */
  paused: string[];
}

export class RecognitionSwitches {
  private readonly paused: Set<string>;

  private constructor(
    readonly path: string,
    paused: Iterable<string>,
  ) {
    this.paused = new Set(paused);
  }

  /** Reads the file (none yet: every camera recognises); a damaged one is an error naming it. */
  static load(path: string): RecognitionSwitches {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new RecognitionSwitches(path, []);
      throw new MstaError('STATE_FAILED', `cannot read the recognition switches ${path}: ${(e as Error).message}`, { where: path });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new MstaError('STATE_FAILED', `${path} is not JSON (${(e as Error).message}); fix or delete it`, { where: path });
    }
    const paused = (parsed as Partial<SwitchFile> | null)?.paused;
    if (!Array.isArray(paused) || !paused.every((c) => typeof c === 'string')) {
      throw new MstaError('STATE_FAILED', `${path} must be {"paused": [camera ids]}; fix or delete it`, { where: path });
    }
    return new RecognitionSwitches(path, paused);
  }

  enabled(camera: string): boolean {
    return !this.paused.has(camera);
  }

  /** Records the switch; false when it was already so (nothing written). Throws when the file cannot be written. */
  set(camera: string, enabled: boolean): boolean {
    if (this.enabled(camera) === enabled) return false;
    if (enabled) this.paused.delete(camera);
    else this.paused.add(camera);
    this.write();
    return true;
  }

  private write(): void {
    const tmp = `${this.path}.tmp`;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, `${JSON.stringify({ paused: [...this.paused].sort() } satisfies SwitchFile)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
    } catch (e) {
      throw new MstaError('STATE_FAILED', `cannot write the recognition switches ${this.path}: ${(e as Error).message}`, { where: this.path });
    }
  }
}
