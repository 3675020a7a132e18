// "None of these": the best label only counts as an action when it is not the background label
// and its score reaches the minimum score; otherwise the clip shows none of the actions.

export interface NoneOfThese {
  /** Index of the background label ("nothing of interest"), scored like the others. */
  background?: number;
  /** Top scores below this are "none of these" (0 = off). */
  minScore: number;
}

/** Index of the action the scores point at, or null for "none of these". */
export function bestAction(scores: ArrayLike<number>, none: NoneOfThese): number | null {
  let best = -1;
  for (let i = 0; i < scores.length; i++) if (best < 0 || scores[i]! > scores[best]!) best = i;
  if (best < 0 || best === none.background || scores[best]! < none.minScore) return null;
  return best;
}
