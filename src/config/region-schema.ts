// A camera's view settings (schema.ts spreads them into the camera): what the model sees of the
// frame (crop), what it never sees (masks), and named regions of interest, each its own clip stream.
// Rectangles are fractions of the frame, so they hold whatever resolution the camera sends.
import { z } from 'zod';

/** Region names become MQTT topic levels, Home Assistant object ids and metric labels. */
export const REGION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Names a region may not take: the per-camera and per-stream topic leaves. Region topics live
 * under `<base>/<camera>/regions/<region>/`, so they cannot clash on MQTT; Home Assistant object
 * ids join camera, region and leaf with "_", where they could.
 */
export const RESERVED_REGION_NAMES: readonly string[] = ['events', 'state', 'scores', 'active', 'status', 'recognition', 'snapshot', 'regions', 'info'];

/** Sums of fractions (0.7 + 0.3) may land a rounding error past 1. */
const EPSILON = 1e-9;

const fraction = (what: string) => z.number().min(0, `${what} must be at least 0 (a fraction of the frame)`).max(1, `${what} must be at most 1 (a fraction of the frame)`);
const extent = (what: string) => fraction(what).gt(0, `${what} must be above 0 (an empty rectangle)`);

const rectangleFields = {
  x: fraction('x').describe('left edge, a fraction of the frame width (0 = left)'),
  y: fraction('y').describe('top edge, a fraction of the frame height (0 = top)'),
  width: extent('width').describe('a fraction of the frame width'),
  height: extent('height').describe('a fraction of the frame height'),
};

/** Both sides of a rectangle inside the frame: the issue names the side that sticks out. */
function insideFrame(r: { x: number; y: number; width: number; height: number }, ctx: z.RefinementCtx): void {
  if (r.x + r.width > 1 + EPSILON) ctx.addIssue({ code: 'custom', path: ['width'], message: `x + width is ${r.x + r.width}: the rectangle leaves the frame on the right (at most 1)` });
  if (r.y + r.height > 1 + EPSILON) ctx.addIssue({ code: 'custom', path: ['height'], message: `y + height is ${r.y + r.height}: the rectangle leaves the frame at the bottom (at most 1)` });
}

export const rectangleSchema = z.strictObject(rectangleFields).superRefine(insideFrame);

const masks = z
  .array(rectangleSchema)
  .default([])
  .describe('rectangles painted black inside the pipeline before any crop or scale (a TV, a bed, a window): the model never sees what is in them. Fractions of the frame');

/** A region's own fields; schema.ts adds its settings overrides (cameraViewFields). */
const regionFields = {
  name: z
    .string()
    .regex(REGION_NAME, 'must be 1-64 letters, digits, "_" or "-" (it becomes an MQTT topic level)')
    .refine((n) => !RESERVED_REGION_NAMES.includes(n), { message: `must not be one of ${RESERVED_REGION_NAMES.join(', ')} (topic leaves)` }),
  ...rectangleFields,
  masks: masks.describe("this region's own masks, on top of the camera's; fractions of the whole frame, like the camera's"),
};

function uniqueNames(regions: ReadonlyArray<{ name: string }>, ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  regions.forEach((r, i) => {
    const first = seen.get(r.name);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate region name "${r.name}" (also regions[${first}])` });
    else seen.set(r.name, i);
  });
}

/** Spread into the camera's schema; `regionOwn` are a region's further fields (its settings overrides). */
export function cameraViewFields<E extends z.core.$ZodShape>(regionOwn: E) {
  // The generic shape hides the rectangle's fields from the checks' types: they are there.
  const region = z.strictObject({ ...regionFields, ...regionOwn }).superRefine((r, ctx) => insideFrame(r as unknown as Parameters<typeof insideFrame>[0], ctx));
  return {
    crop: z
      .enum(['center', 'full'])
      .default('center')
      .describe(
        "without regions, what of the frame the model sees: center = the centre square (the model's aspect ratio) scaled to fit, the sides cut off; full = the whole frame letterboxed (black bars, geometry kept: squashing would make people thinner or wider than the model learnt them)",
      ),
    masks,
    regions: z
      .array(region)
      .default([])
      .superRefine((regions, ctx) => uniqueNames(regions as unknown as Array<{ name: string }>, ctx))
      .describe('regions of interest: each is cropped from the one decode, letterboxed to the model size and recognised as its own clip stream; with regions the whole frame is not recognised unless a region covers it'),
  };
}
