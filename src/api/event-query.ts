// `/api/events?camera=&region=&label=&since=&limit=&before=`: the query string validated into a filter,
// or the first problem with the parameter it is about (served as a 400).
import type { EventFilter } from '../types.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export interface QueryProblem {
  parameter: string;
  message: string;
}

const KNOWN = new Set(['camera', 'region', 'label', 'since', 'before', 'limit']);

/** A time as epoch milliseconds or an ISO 8601 date(-time); undefined if neither. */
export function parseTime(value: string): number | undefined {
  if (/^\d{1,15}$/.test(value)) return Number(value);
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export function parseEventQuery(params: URLSearchParams): { filter: EventFilter } | { problem: QueryProblem } {
  for (const key of new Set(params.keys())) {
    if (!KNOWN.has(key)) return { problem: { parameter: key, message: `unknown parameter (known: ${[...KNOWN].join(', ')})` } };
    if (params.getAll(key).length > 1) return { problem: { parameter: key, message: 'given more than once' } };
  }
  const filter: EventFilter = { limit: DEFAULT_LIMIT };
  for (const key of ['camera', 'region', 'label'] as const) {
    const value = params.get(key);
    if (value === null) continue;
    if (value === '') return { problem: { parameter: key, message: 'must not be empty' } };
    filter[key] = value;
  }
  for (const key of ['since', 'before'] as const) {
    const value = params.get(key);
    if (value === null) continue;
    const ms = parseTime(value);
    if (ms === undefined) return { problem: { parameter: key, message: `"${value}" is not a time: give epoch milliseconds or an ISO 8601 date-time` } };
    filter[key] = ms;
  }
  const limit = params.get('limit');
  if (limit !== null) {
    const n = /^\d{1,7}$/.test(limit) ? Number(limit) : NaN;
    if (!(n >= 1 && n <= MAX_LIMIT)) return { problem: { parameter: 'limit', message: `must be a whole number from 1 to ${MAX_LIMIT}` } };
    filter.limit = n;
  }
  return { filter };
}
