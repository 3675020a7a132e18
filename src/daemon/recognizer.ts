// Labels from config (inline, files, or the bundle's own) -> prompts -> cached text embeddings ->
// one embedding per label: everything recognition needs that changes on a label reload.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { ClipTokenizer } from '../model/clip-tokenizer.js';
import { embedPrompts } from '../model/prompt-embeddings.js';
import type { VideoModel } from '../model/video-model.js';
import { labelEmbeddings } from '../recognize/label-embedding.js';
import { readLabelFile } from '../recognize/label-files.js';
import { buildLabelSet, inlineActions, labelSetPrompts, type LabelSet, type LocatedAction } from '../recognize/label-set.js';
import type { BundleManifest } from '../model/bundle-manifest.js';

export interface Recognizer {
  set: LabelSet;
  /** Row-major [labels, embed_dim]. */
  embeds: Float32Array;
  /** Label names in score order. */
  names: string[];
}

/**
 * The label set a config asks for (files, then inline actions); the bundle's own labels when it
 * names none (the demo). Cheap: no model needed, so the sink can announce the labels early.
 */
/** The label part of the config (one-off commands have no embedding cache). */
export type LabelOptions = Omit<Config['labels'], 'cache_dir'>;

export function configuredLabelSet(labels: LabelOptions, manifest: Pick<BundleManifest, 'template' | 'labels'>, actionsWhere = 'labels.actions'): LabelSet {
  const named = labels.files.length > 0 || labels.actions.length > 0;
  const actions: LocatedAction[] = named
    ? [...labels.files.flatMap((file) => readLabelFile(file)), ...inlineActions(labels.actions, actionsWhere)]
    : inlineActions(manifest.labels ?? [], 'bundle.json labels');
  return buildLabelSet(labels.template ?? manifest.template, actions, labels.background !== undefined ? { background: labels.background } : {});
}

/**
 * A label set's content (template, names, prompts, thresholds, background; not where each was
 * written): cameras whose sets are equal share one embedding, however their configs spell them.
 */
export function labelSetKey(set: LabelSet): string {
  return JSON.stringify({ template: set.template, background: set.background ?? null, labels: set.labels.map(({ where: _where, ...label }) => label) });
}

export interface CutPrompt {
  label: string;
  prompt: string;
  /** With the start and end tokens. */
  tokens: number;
}

/** Prompts (names and descriptions) longer than the text model's context: the tokenizer cuts them. */
export function promptsCutToContext(set: LabelSet, tokenizer: ClipTokenizer, contextLength: number): CutPrompt[] {
  return set.labels.flatMap((label) =>
    label.prompts.map((prompt) => ({ label: label.name, prompt, tokens: tokenizer.tokenize(prompt).length })).filter((p) => p.tokens > contextLength),
  );
}

/** Embeds a label set's prompts (through the cache in `cacheDir`, when given) into a recognizer. */
export async function buildRecognizer(
  set: LabelSet,
  cacheDir: string | undefined,
  model: VideoModel,
  tokenizer: ClipTokenizer,
  log: Logger,
): Promise<Recognizer> {
  const m = model.bundle.manifest;
  const prompts = labelSetPrompts(set);
  const cut = promptsCutToContext(set, tokenizer, m.context_length);
  if (cut.length > 0) {
    // Not an error (CLIP cuts too), but the cut words never reach the model: name every one.
    const list = cut.map((c) => `${JSON.stringify(c.label)}: ${JSON.stringify(c.prompt)} (${c.tokens} tokens)`).join('; ');
    log.warn({ context_length: m.context_length, cut }, `${cut.length} label prompt(s) longer than the bundle's ${m.context_length}-token context are cut: ${list}`);
  }
  const started = performance.now();
  let lastLog = started;
  const { embeddings, computed } = await embedPrompts(prompts, {
    tokenize: (text) => tokenizer.inputIds(text, m.context_length),
    contextLength: m.context_length,
    embedDim: m.embed_dim,
    embedTokens: (ids, rows) => model.embedTokens(ids, rows),
    ...(cacheDir !== undefined ? { cacheDir } : {}),
    bundleSha256: model.bundle.sha256,
    onProgress(done, total) {
      // Large label sets take a while on a CPU: show progress rather than look hung.
      if (performance.now() - lastLog > 1000 || done === total) {
        lastLog = performance.now();
        log.info({ done, total }, `embedding label prompts ${done}/${total}`);
      }
    },
  });
  log.info(
    { labels: set.labels.length, prompts: prompts.length, computed, cached: prompts.length - computed, seconds: Number(((performance.now() - started) / 1000).toFixed(2)) },
    'labels ready',
  );
  return { set, embeds: labelEmbeddings(set, embeddings, m.embed_dim), names: set.labels.map((l) => l.name) };
}
