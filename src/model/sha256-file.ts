// A file's sha256, streamed. Its own module: the inference worker imports it, and the worker
// must not load the bundle manifest's schema (zod), whose few MB of heap are enough to make V8
// run a full mark-compact after nearly every scavenge there (docs/inference.md).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export function sha256File(path: string): Promise<string> {
  return new Promise((resolveHash, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolveHash(hash.digest('hex')));
  });
}
