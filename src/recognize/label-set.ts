// A label set: the actions to watch for, each with the prompts whose embeddings make its label
// embedding. Events carry the label's original name; prompts use it turned into words.
import { MstaError } from '../errors.js';

/** One action as written in config or a label file. */
export interface LabelAction {
  name: string;
  descriptions?: readonly string[];
  /** Overrides the start threshold for this label. */
  threshold?: number;
  /** Overrides the set's prompt template (a label file's own template). */
  template?: string;
}

/** An action and where it was written ("file:line", or a config path), for error messages. */
export interface LocatedAction {
  action: LabelAction;
  where: string;
}

/** Actions given inline (config labels.actions, --labels), located as `${where}[i]`. */
export function inlineActions(actions: readonly (string | LabelAction)[], where: string): LocatedAction[] {
  return actions.map((a, i) => ({ action: typeof a === 'string' ? { name: a } : a, where: `${where}[${i}]` }));
}

export interface Label {
  /** As written: what events report. */
  name: string;
  /** The name as words for prompts ("ApplyEyeMakeup" -> "apply eye makeup"). */
  words: string;
  /** The template filled with the words, then the descriptions. */
  prompts: string[];
  threshold?: number;
  where: string;
}

export interface LabelSet {
  template: string;
  labels: Label[];
  /** Index of the "none of these" label, if one is set. */
  background?: number;
}

/**
 * A label name as words for a prompt. Names with spaces (Kinetics: "passing American football
 * (in game)") are kept; one-token names are split: snake_case at "_" (HMDB-51 "brush_hair"),
 * CamelCase at case changes (UCF-101 "ApplyEyeMakeup", "YoYo"), then lower-cased.
 */
export function labelWords(name: string): string {
  const trimmed = name.trim().replace(/\s+/g, ' ');
  if (trimmed.includes(' ')) return trimmed;
  return trimmed
    .replace(/_+/g, ' ')
    .replace(/(\p{Ll}|\p{N})(\p{Lu})/gu, '$1 $2')
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1 $2')
    .trim()
    .replace(/\s+/g, ' ')
    .toLowerCase();
}

/** The template with "{}" replaced by the label's words. */
export function fillTemplate(template: string, words: string): string {
  return template.replaceAll('{}', words);
}

/**
 * Longest label name and description (characters). Prompts are cut at the model's context length
 * (77 tokens) anyway; the limits keep log lines, MQTT payloads and discovery messages bounded.
 */
export const MAX_LABEL_LENGTH = 200;
export const MAX_DESCRIPTION_LENGTH = 1000;

function invalid(where: string, message: string): MstaError {
  return new MstaError('LABELS_INVALID', message, { where });
}

function toLabel(template: string, { action, where }: LocatedAction): Label {
  const name = action.name.trim();
  if (name === '') throw invalid(where, 'empty label name');
  if (name.length > MAX_LABEL_LENGTH) throw invalid(where, `label name of ${name.length} characters (at most ${MAX_LABEL_LENGTH}): "${name.slice(0, 40)}..."`);
  const words = labelWords(name);
  if (words === '') throw invalid(where, `label ${JSON.stringify(name)} has no words to put in a prompt`);
  const descriptions = (action.descriptions ?? []).map((d) => d.trim());
  if (descriptions.some((d) => d === '')) throw invalid(where, `label ${JSON.stringify(name)} has an empty description`);
  const long = descriptions.find((d) => d.length > MAX_DESCRIPTION_LENGTH);
  if (long !== undefined) throw invalid(where, `label ${JSON.stringify(name)} has a description of ${long.length} characters (at most ${MAX_DESCRIPTION_LENGTH})`);
  const { threshold } = action;
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) {
    throw invalid(where, `label ${JSON.stringify(name)}: threshold must be between 0 and 1, got ${threshold}`);
  }
  const label: Label = { name, words, prompts: [...new Set([fillTemplate(action.template ?? template, words), ...descriptions])], where };
  if (threshold !== undefined) label.threshold = threshold;
  return label;
}

export interface LabelSetOptions {
  /** A label meaning "none of these": scored like the others, never reported. Added if not listed. */
  background?: string;
}

/**
 * Builds and checks a label set. Two labels with the same name, or whose words are the same (the
 * model could not tell them apart), and an empty set are errors naming where each was written.
 */
export function buildLabelSet(template: string, actions: readonly LocatedAction[], options: LabelSetOptions = {}): LabelSet {
  if (!template.includes('{}')) throw invalid('labels.template', `template ${JSON.stringify(template)} must contain {} where the action name goes`);
  const located = [...actions];
  const { background } = options;
  if (background !== undefined && !located.some((a) => a.action.name.trim() === background.trim())) {
    located.push({ action: { name: background }, where: 'labels.background' });
  }
  if (!located.some((a) => a.action.name.trim() !== background?.trim())) {
    throw invalid('labels', 'the label set is empty: give actions inline (labels.actions, --labels) or in label files');
  }
  const labels: Label[] = [];
  const byName = new Map<string, Label>();
  const byWords = new Map<string, Label>();
  for (const entry of located) {
    const label = toLabel(template, entry);
    const sameName = byName.get(label.name);
    if (sameName) throw invalid(label.where, `duplicate label ${JSON.stringify(label.name)} (also at ${sameName.where})`);
    const key = label.words.toLowerCase();
    const sameWords = byWords.get(key);
    if (sameWords) {
      throw invalid(label.where, `label ${JSON.stringify(label.name)} reads the same as ${JSON.stringify(sameWords.name)} at ${sameWords.where} ("${key}")`);
    }
    byName.set(label.name, label);
    byWords.set(key, label);
    labels.push(label);
  }
  const set: LabelSet = { template, labels };
  if (background !== undefined) set.background = labels.findIndex((l) => l.name === background.trim());
  return set;
}

/** Every prompt of the set once, in label order: what the text model has to embed. */
export function labelSetPrompts(set: LabelSet): string[] {
  return [...new Set(set.labels.flatMap((l) => l.prompts))];
}
