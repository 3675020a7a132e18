// Reads the parity reference that training/'s export writes beside a model bundle
// (<bundle>/reference/reference.json + raw little-endian .bin arrays).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ReferenceArray {
  readonly dtype: 'uint8' | 'int64' | 'float32';
  readonly shape: readonly number[];
  readonly data: Uint8Array | BigInt64Array | Float32Array;
}

interface ReferenceEntry {
  file: string;
  dtype: string;
  shape: number[];
}

export interface BundleReference {
  readonly texts: readonly string[];
  array(name: string): ReferenceArray;
}

export function readBundleReference(bundleDir: string): BundleReference {
  const dir = join(bundleDir, 'reference');
  const index = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Record<string, unknown>;
  const texts = index['texts'];
  if (!Array.isArray(texts)) throw new Error(`${dir}/reference.json: "texts" is not a list`);
  return {
    texts: texts as string[],
    array(name: string): ReferenceArray {
      const entry = index[name] as ReferenceEntry | undefined;
      if (!entry) throw new Error(`${dir}/reference.json: no array "${name}"`);
      const bytes = readFileSync(join(dir, entry.file));
      const count = entry.shape.reduce((a, b) => a * b, 1);
      // Copy into a fresh, aligned buffer: a Buffer's offset may not suit 8-byte views.
      const buffer = new Uint8Array(bytes).buffer;
      const make = {
        uint8: () => new Uint8Array(buffer),
        int64: () => new BigInt64Array(buffer),
        float32: () => new Float32Array(buffer),
      }[entry.dtype as ReferenceArray['dtype']];
      if (!make) throw new Error(`${dir}/${entry.file}: unsupported dtype ${entry.dtype}`);
      const data = make();
      if (data.length !== count) {
        throw new Error(`${dir}/${entry.file}: ${data.length} values, shape ${JSON.stringify(entry.shape)} needs ${count}`);
      }
      return { dtype: entry.dtype as ReferenceArray['dtype'], shape: entry.shape, data };
    },
  };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
