// Label files: plain text (one action per line; blank lines and # comments ignored), or YAML
// (a list like labels.actions in the config: a name, or {name, descriptions, threshold}).
// Every action keeps "file:line" so errors point at the line to fix.
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { MstaError } from '../errors.js';
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
  const items: unknown = doc.toJS();
  if (!Array.isArray(items)) throw invalid(at(doc.contents?.range?.[0]), 'a YAML label file must be a list of actions (a name, or {name, descriptions, threshold})');
  return items.map((item: unknown, i) => {
    const node = doc.getIn([i], true) as { range?: [number, number, number] } | undefined;
    const where = at(node?.range?.[0]);
    if (typeof item !== 'string' && (typeof item !== 'object' || item === null || Array.isArray(item))) {
      throw invalid(where, `action ${i + 1}: expected a name, or {name, descriptions, threshold}`);
    }
    const parsed = typeof item === 'string' ? yamlName.safeParse(item) : yamlAction.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = issue.path.map(String);
      const inner = path.length > 0 ? (doc.getIn([i, ...issue.path], true) as { range?: [number, number, number] } | undefined) : undefined;
      throw invalid(at(inner?.range?.[0] ?? node?.range?.[0]), `action ${i + 1}${path.length ? ` ${path.join('.')}` : ''}: ${issue.message}`);
    }
    return typeof parsed.data === 'string' ? { action: { name: parsed.data }, where } : { action: parsed.data, where };
  });
}

/** Reads a label file: YAML for .yaml / .yml, else plain text. */
export function readLabelFile(file: string): LocatedAction[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw invalid(file, `cannot read the label file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return /\.ya?ml$/i.test(file) ? parseLabelYaml(text, file) : parseLabelText(text, file);
}
