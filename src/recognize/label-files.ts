// Label files: plain text (one action per line; blank lines and # comments ignored), or YAML
// (a list like labels.actions in the config: a name, or {name, descriptions, threshold}; or
// {template, actions: [...]} where the template is this file's own).
// Every action keeps "file:line" so errors point at the line to fix.
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { MstaError } from '../errors.js';
import { readFailure, readTextFile, TextEncodingError } from '../read-text.js';
import type { LocatedAction } from './label-set.js';

function invalid(where: string, message: string): MstaError {
  return new MstaError('LABELS_INVALID', message, { where });
}

/** Actions in a plain-text label file. */
export function parseLabelText(text: string, file: string): LocatedAction[] {
  const actions: LocatedAction[] = [];
  text.split('\n').forEach((line, i) => {
    const name = line.trim();
    if (name === '' || name.startsWith('#')) return;
    actions.push({ action: { name }, where: `${file}:${i + 1}` });
  });
  return actions;
}

const yamlName = z.string().trim().min(1, 'empty label name');
const yamlAction = z.strictObject({
  name: yamlName,
  descriptions: z.array(z.string().trim().min(1, 'empty description')).optional(),
  threshold: z.number().min(0).max(1).optional(),
});

/** Actions in a YAML label file. */
export function parseLabelYaml(text: string, file: string): LocatedAction[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const at = (offset: number | undefined) => `${file}:${offset === undefined ? 1 : lines.linePos(offset).line}`;
  const syntax = doc.errors[0];
  if (syntax) throw invalid(`${file}:${syntax.linePos?.[0].line ?? 1}`, `not valid YAML: ${syntax.message.split('\n')[0]}`);
  let top: unknown;
  try {
    top = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw invalid(`${file}:1`, `not valid YAML: ${(e as Error).message}`);
  }
  // Either a list of actions, or {template?, actions: [...]}: a template that applies to this file's actions.
  const wrapped = typeof top === 'object' && top !== null && !Array.isArray(top);
  if (wrapped) {
    const extra = Object.keys(top as object).filter((k) => k !== 'template' && k !== 'actions');
    if (extra.length > 0) throw invalid(at(doc.contents?.range?.[0]), `unknown key ${JSON.stringify(extra[0])} (a label file has template and actions)`);
  }
  const template: unknown = wrapped ? (top as { template?: unknown }).template : undefined;
  if (template !== undefined && (typeof template !== 'string' || !template.includes('{}'))) {
    throw invalid(at((doc.getIn(['template'], true) as { range?: [number] } | undefined)?.range?.[0]), 'template must be text containing {} where the action name goes');
  }
  const items: unknown = wrapped ? (top as { actions?: unknown }).actions : top;
  const base = wrapped ? ['actions'] : [];
  if (!Array.isArray(items)) throw invalid(at(doc.contents?.range?.[0]), 'a YAML label file must be a list of actions (a name, or {name, descriptions, threshold}), or {template, actions: [...]}');
  return items.map((item: unknown, i) => {
    const node = doc.getIn([...base, i], true) as { range?: [number, number, number] } | undefined;
    const where = at(node?.range?.[0]);
    if (typeof item !== 'string' && (typeof item !== 'object' || item === null || Array.isArray(item))) {
      throw invalid(where, `action ${i + 1}: expected a name, or {name, descriptions, threshold}`);
    }
    const parsed = typeof item === 'string' ? yamlName.safeParse(item) : yamlAction.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = issue.path.map(String);
      const inner = path.length > 0 ? (doc.getIn([...base, i, ...issue.path], true) as { range?: [number, number, number] } | undefined) : undefined;
      throw invalid(at(inner?.range?.[0] ?? node?.range?.[0]), `action ${i + 1}${path.length ? ` ${path.join('.')}` : ''}: ${issue.message}`);
    }
    const action = typeof parsed.data === 'string' ? { name: parsed.data } : parsed.data;
    return { action: typeof template === 'string' ? { ...action, template } : action, where };
  });
}

/** Reads a label file: YAML for .yaml / .yml, else plain text. */
export function readLabelFile(file: string): LocatedAction[] {
  let text: string;
  try {
    text = readTextFile(file);
  } catch (e) {
    throw invalid(e instanceof TextEncodingError ? `${file}:${e.line}` : file, `label file: ${readFailure(e)}`);
  }
  return /\.ya?ml$/i.test(file) ? parseLabelYaml(text, file) : parseLabelText(text, file);
}
