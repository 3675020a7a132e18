// Override schemas derived from the global ones (no second copy of any field): every field optional
// and without its default, nested objects likewise, so a parsed override holds exactly the keys the
// user wrote. In zod 4 a `.default()` inside `.optional()` still fills the value in, which would make
// every camera override every global setting with the default: the defaults are unwrapped instead.
import { z } from 'zod';

type Core = z.core.SomeType;

/** A field as an override: its default (or prefault) removed, an object's fields overrides too. */
type OverrideField<T> = T extends z.ZodDefault<infer I> | z.ZodPrefault<infer I>
  ? OverrideField<I>
  : T extends z.ZodObject<infer S, infer C>
    ? z.ZodObject<OverrideShape<S>, C>
    : T;

type OverrideShape<S extends z.core.$ZodShape> = { -readonly [K in keyof S]: z.ZodOptional<OverrideField<S[K]> & Core> };

function withoutDefault(field: z.ZodType): z.ZodType {
  let inner = field;
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodPrefault) inner = inner.unwrap() as z.ZodType;
  if (inner instanceof z.ZodObject) inner = overrideOf(inner);
  // The description was on the wrapper: keep it for the JSON Schema.
  const meta = z.globalRegistry.get(field);
  return meta && inner !== field ? inner.meta(meta) : inner;
}

/**
 * The override schema of a (strict) object schema: same fields, same checks, all optional, no
 * defaults. Refinements across fields are not carried over: they hold for the merged result, which
 * the caller validates with the global schema.
 */
export function overrideOf<S extends z.core.$ZodShape, C extends z.core.$ZodObjectConfig>(schema: z.ZodObject<S, C>): z.ZodObject<OverrideShape<S>, C> {
  const shape = Object.fromEntries(Object.entries(schema.shape).map(([key, field]) => [key, withoutDefault(field as z.ZodType).optional()]));
  return schema.extend(shape) as unknown as z.ZodObject<OverrideShape<S>, C>;
}
