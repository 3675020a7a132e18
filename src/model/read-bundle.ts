// Loads a bundle directory and proves it is the one bundle.json describes: every file's sha256
// checked, before any graph is handed to onnxruntime.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MstaError } from '../errors.js';
import { bundleManifestSchema, TEXT_GRAPH, VIDEO_GRAPH, type BundleManifest } from './bundle-manifest.js';
import { sha256File } from './sha256-file.js';

export interface Bundle {
  dir: string;
  manifest: BundleManifest;
  /** sha256 of bundle.json, which pins every file's hash: the bundle's identity in events and caches. */
  sha256: string;
  videoPath: string;
  /** The int8 video graph, where the bundle has one (CPU hosts). */
  int8VideoPath?: string;
  textPath: string;
  vocabPath: string;
}

export async function readBundle(dir: string): Promise<Bundle> {
  const manifestPath = join(dir, 'bundle.json');
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new MstaError('BUNDLE_NOT_FOUND', code === 'ENOENT' ? 'no bundle.json: not a model bundle directory' : `cannot read (${code})`, { where: manifestPath });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new MstaError('BUNDLE_INVALID', `not valid JSON: ${(e as Error).message}`, { where: manifestPath });
  }
  const parsed = bundleManifestSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new MstaError('BUNDLE_INVALID', problems.join('; '), { where: manifestPath });
  }
  const manifest = parsed.data;
  const int8Video = manifest.variants?.int8?.video;
  for (const required of [VIDEO_GRAPH, TEXT_GRAPH, manifest.tokenizer.vocab, ...(int8Video ? [int8Video] : [])]) {
    if (!(required in manifest.files)) {
      throw new MstaError('BUNDLE_INVALID', `"files" does not list ${required}`, { where: manifestPath });
    }
  }
  await Promise.all(
    Object.entries(manifest.files).map(async ([name, expected]) => {
      const path = join(dir, name);
      let found: string;
      try {
        found = await sha256File(path);
      } catch (e) {
        throw new MstaError('BUNDLE_INVALID', `missing or unreadable (${(e as NodeJS.ErrnoException).code})`, { where: path });
      }
      if (found !== expected) {
        throw new MstaError('BUNDLE_HASH_MISMATCH', `sha256 expected ${expected} (bundle.json), found ${found}`, { where: path });
      }
    }),
  );
  return {
    dir,
    manifest,
    sha256: createHash('sha256').update(text).digest('hex'),
    videoPath: join(dir, VIDEO_GRAPH),
    ...(int8Video ? { int8VideoPath: join(dir, int8Video) } : {}),
    textPath: join(dir, TEXT_GRAPH),
    vocabPath: join(dir, manifest.tokenizer.vocab),
  };
}
