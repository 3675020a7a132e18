// `${VAR}` and `${VAR:-default}` in YAML string values (after parsing, so a variable's value can
// never change the document's structure); `$${` writes a literal `${`.
import type { ConfigIssue } from './config-error.js';

const REFERENCE = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function substituteEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path: (string | number)[] = [],
  issues: ConfigIssue[] = [],
): { value: unknown; issues: ConfigIssue[] } {
  if (typeof value === 'string') {
    const replaced = value.replace(REFERENCE, (whole, escape: string, name: string, fallback: string | undefined) => {
      if (escape) return whole.slice(1);
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      issues.push({ path, message: `environment variable ${name} is not set (write \${${name}:-default} for a default)` });
      return '';
    });
    return { value: replaced, issues };
  }
  if (Array.isArray(value)) {
    return { value: value.map((v, i) => substituteEnv(v, env, [...path, i], issues).value), issues };
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteEnv(v, env, [...path, k], issues).value;
    return { value: out, issues };
  }
  return { value, issues };
}
