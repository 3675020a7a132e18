import { MstaError } from '../errors.js';

export interface ConfigIssue {
  path: (string | number)[];
  message: string;
  /** 1-based line in the YAML file, where known. */
  line?: number;
}

/** `cameras[0].url` style, as a user finds it in the YAML. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '') || '(top level)';
}

export function formatIssue(issue: ConfigIssue): string {
  return `${formatPath(issue.path)}: ${issue.message}${issue.line ? ` (line ${issue.line})` : ''}`;
}

/** Every problem found in one config file, each with its YAML path. */
export class ConfigError extends MstaError {
  readonly issues: ConfigIssue[];

  constructor(file: string, issues: ConfigIssue[]) {
    super('CONFIG_INVALID', `${issues.length} error(s):\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`, { where: file });
    this.issues = issues;
  }
}
