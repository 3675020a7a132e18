"""Bootstrap intervals over seeds and clips (both resampled, clips paired across conditions)."""
from __future__ import annotations

import numpy as np

REPLICATES = 2000


def harmonic(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(a + b > 0, 2 * a * b / (a + b), 0.0)


def _draws(rng: np.random.Generator, seeds: int, clips: int, reps: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.integers(0, seeds, size=(reps, seeds)), rng.integers(0, clips, size=(reps, clips))


def _per_seed(correct: np.ndarray, clip_idx: np.ndarray) -> np.ndarray:
    """correct [S, N] -> accuracy [S, reps] on each replicate's clips."""
    return correct[:, clip_idx].mean(-1)


def _pick_seeds(acc: np.ndarray, seed_idx: np.ndarray) -> np.ndarray:
    """acc [S, reps] -> mean over each replicate's seeds [reps]."""
    return acc[seed_idx.T, np.arange(seed_idx.shape[0])].mean(0)


def interval(values: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def _as_seeds(x, seeds: int) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return np.broadcast_to(x, (seeds, x.shape[-1])) if x.ndim == 1 else x


def accuracy(correct, seed: int = 0, reps: int = REPLICATES) -> dict:
    """Mean top-1 over seeds [S, N] (or one run [N]) with a 95% bootstrap interval."""
    c = np.asarray(correct, dtype=float)
    c = c[None] if c.ndim == 1 else c
    si, ci = _draws(np.random.default_rng(seed), c.shape[0], c.shape[1], reps)
    boot = _pick_seeds(_per_seed(c, ci), si)
    return {"mean": float(c.mean()), "ci": interval(boot), "n_seeds": c.shape[0], "n_clips": c.shape[1]}


def paired_gain(a, b, seed: int = 0, reps: int = REPLICATES) -> dict:
    """mean(a) - mean(b) on the same clips; a, b [S, N] (a run [N] stands for every seed)."""
    s = max(np.asarray(a).ndim == 2 and np.asarray(a).shape[0] or 1, np.asarray(b).ndim == 2 and np.asarray(b).shape[0] or 1)
    A, B = _as_seeds(a, s), _as_seeds(b, s)
    si, ci = _draws(np.random.default_rng(seed), s, A.shape[1], reps)
    boot = _pick_seeds(_per_seed(A, ci), si) - _pick_seeds(_per_seed(B, ci), si)
    return {"mean": float(A.mean() - B.mean()), "ci": interval(boot), "n_seeds": s, "n_clips": A.shape[1]}


def _hm_boot(base: np.ndarray, novel: np.ndarray, si, cb, cn) -> np.ndarray:
    hm = harmonic(_per_seed(base, cb), _per_seed(novel, cn))  # [S, reps]
    return _pick_seeds(hm, si)


def base_novel(base, novel, seed: int = 0, reps: int = REPLICATES) -> dict:
    """Base, novel and harmonic mean (per seed, then averaged) with 95% intervals."""
    b, n = np.asarray(base, dtype=float), np.asarray(novel, dtype=float)
    b, n = (b[None], n[None]) if b.ndim == 1 else (b, n)
    rng = np.random.default_rng(seed)
    si, cb = _draws(rng, b.shape[0], b.shape[1], reps)
    cn = rng.integers(0, n.shape[1], size=(reps, n.shape[1]))
    hm = float(harmonic(b.mean(1), n.mean(1)).mean())
    return {"base": accuracy(b, seed, reps), "novel": accuracy(n, seed + 1, reps),
            "hm": {"mean": hm, "ci": interval(_hm_boot(b, n, si, cb, cn))}}


def hm_gain(base_a, novel_a, base_b, novel_b, seed: int = 0, reps: int = REPLICATES) -> dict:
    """HM(a) - HM(b), paired by seed and clip."""
    ba, na, bb, nb = (np.asarray(x, dtype=float) for x in (base_a, novel_a, base_b, novel_b))
    s = ba.shape[0]
    bb, nb = _as_seeds(bb, s), _as_seeds(nb, s)
    rng = np.random.default_rng(seed)
    si, cb = _draws(rng, s, ba.shape[1], reps)
    cn = rng.integers(0, na.shape[1], size=(reps, na.shape[1]))
    boot = _hm_boot(ba, na, si, cb, cn) - _hm_boot(bb, nb, si, cb, cn)
    mean = float(harmonic(ba.mean(1), na.mean(1)).mean() - harmonic(bb.mean(1), nb.mean(1)).mean())
    return {"mean": mean, "ci": interval(boot)}
