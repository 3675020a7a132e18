"""The markdown report of a paper-table run (tables with 95% bootstrap intervals)."""
from __future__ import annotations

import numpy as np

from . import stats


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _ci(d: dict) -> str:
    lo, hi = d["ci"]
    return f"{_pct(d['mean'])} [{_pct(lo)}, {_pct(hi)}]"


def _signed(d: dict) -> str:
    lo, hi = d["ci"]
    return f"{100 * d['mean']:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]"


def _stack(runs: list[dict], key: str) -> np.ndarray:
    return np.array([r[key] for r in runs], dtype=float)


def _runs(table: dict, prefix: str, seeds: int) -> dict[int, dict]:
    """seed -> run for the runs of `prefix` that are there (a run cut short has fewer)."""
    return {s: table[f"{prefix}/{s}"] for s in range(seeds) if f"{prefix}/{s}" in table}


def _n(runs: dict, seeds: int) -> str:
    return "" if len(runs) == seeds else f" ({len(runs)} of {seeds} seeds)"


def render(raw: dict, plan, world) -> str:
    seeds = plan.seeds
    zero = raw["zero_shot"]
    z, zr = np.array(zero["correct"], float), np.array(zero["reversed"], float)
    n = len(z)
    lines = [f"### Bare backbone (held-out compositions)", "",
             f"Zero-shot top-1 on the {len(world.TARGETS)} target labels, {n} clips "
             f"({plan.eval_per_label} per label, seed {20261201}): **{_ci(stats.accuracy(z))}**; "
             f"time-reversed clips scored against the swapped label: {_ci(stats.accuracy(zr))}.", ""]
    lines += ["### Few-shot (all 15 target labels)", "",
              f"{seeds} seeds x {n} held-out clips; intervals: 95% bootstrap over seeds and clips (clips paired). "
              f"Epochs per K: {dict(plan.few_shot_epochs)}; MSTA lambda {plan.few_shot_lambda}.", "",
              "| K | method | top-1 | gain over zero-shot | reversed-time top-1 (swapped labels) | reversed gain |",
              "| --- | --- | --- | --- | --- | --- |"]
    for k in plan.shots:
        lines.append(f"| {k} | zero-shot (bare backbone) | {_ci(stats.accuracy(z))} | - | {_ci(stats.accuracy(zr))} | - |")
        for m, name in (("msta", "MSTA"), ("msta-no-temporal", "MSTA w/o temporal conv"), ("linear-probe", "linear probe")):
            got = _runs(raw["few_shot"], f"{m}/{k}", seeds)
            if not got:
                lines.append(f"| {k} | {name} | not run | | | |")
                continue
            runs = list(got.values())
            c, r = _stack(runs, "correct"), _stack(runs, "reversed")
            lines.append(f"| {k} | {name}{_n(got, seeds)} | {_ci(stats.accuracy(c))} | {_signed(stats.paired_gain(c, z))} | "
                         f"{_ci(stats.accuracy(r))} | {_signed(stats.paired_gain(r, zr))} |")
    sel = raw["selection"]
    lines += ["", "### Base-to-novel (8 base / 7 novel labels)", "",
              f"Chosen on the validation split (train {', '.join(world.VAL_BASE)}; validate on "
              f"{', '.join(world.VAL_NOVEL)}): lambda {sel['lambda']}, {sel['epochs']} epochs "
              f"(rule: {sel['rule']}; validation HM with L_CC {_pct(sel['hm'])}, validation novel "
              f"{_pct(sel['novel'])} with vs {_pct(sel['novel_alpha0'])} without L_CC, bare backbone "
              f"{_pct(sel['zero_shot']['novel'])}).", "",
              f"{seeds} seeds, 16 training clips per base label; evaluation {plan.eval_per_label} clips per label.", "",
              "| condition | base | novel | HM | HM gain over alpha 0 |", "| --- | --- | --- | --- | --- |"]
    zb, zn = np.array(zero["base"], float), np.array(zero["novel"], float)
    zs = stats.base_novel(zb, zn)
    lines.append(f"| bare backbone (zero-shot) | {_ci(zs['base'])} | {_ci(zs['novel'])} | {_ci(zs['hm'])} | - |")
    b2n = raw["base_to_novel"]

    def cond(name, n=seeds):
        return _runs(b2n, name, n)

    def paired(a: dict, b: dict):
        common = sorted(set(a) & set(b))
        pick = lambda runs, key: _stack([runs[s] for s in common], key)  # noqa: E731
        return (stats.hm_gain(pick(a, "base"), pick(a, "novel"), pick(b, "base"), pick(b, "novel"))
                if common else None)

    names = ("alpha 0", "alpha 1", "alpha 1, shuffled descriptions", "alpha 1, temporal descriptions only")
    for name in names:
        got = cond(name)
        if not got:
            lines.append(f"| {name} | not run | | | |")
            continue
        runs = list(got.values())
        s = stats.base_novel(_stack(runs, "base"), _stack(runs, "novel"))
        g = paired(got, cond("alpha 0")) if name != "alpha 0" else None
        lines.append(f"| {name}{_n(got, seeds)} | {_ci(s['base'])} | {_ci(s['novel'])} | {_ci(s['hm'])} | "
                     f"{_signed(g) if g else '-'} |")
    g1 = paired(cond("alpha 1"), cond("alpha 0"))
    vs_shuffled = paired(cond("alpha 1"), cond("alpha 1, shuffled descriptions"))
    if g1 and vs_shuffled:
        supported = g1["ci"][0] > 0 and vs_shuffled["ci"][0] > 0
        lines += ["", f"HM of alpha 1 minus HM of the shuffled control: {_signed(vs_shuffled)}. "
                  f"**L_CC supported: {'yes' if supported else 'no'}** (criterion: the HM gain's interval over "
                  f"alpha 0 excludes 0, and alpha 1 beats the shuffled control with an interval excluding 0).", ""]
    curves = [list(cond(c).values()) for c in names]
    if all(curves):
        lines += ["Novel top-1 as training goes (mean over seeds):", "",
                  "| epoch | " + " | ".join(("alpha 0", "alpha 1", "shuffled", "temporal only")) + " |",
                  "| --- | --- | --- | --- | --- |"]
        for i, (epoch, _) in enumerate(curves[0][0]["curve"]):
            vals = [np.mean([r["curve"][i][1]["novel"] for r in runs]) for runs in curves]
            lines.append(f"| {epoch} | " + " | ".join(_pct(v) for v in vals) + " |")
    lines += ["", f"### Parameter efficiency (same split, alpha 1; MSTA {seeds} seeds, the others "
              f"{plan.efficiency_seeds})", "",
              "| method | base | novel | HM | trainable parameters | CPU s / epoch (1 thread) |",
              "| --- | --- | --- | --- | --- | --- |"]
    from .run import EFFICIENCY
    for label, _method in EFFICIENCY:
        got = cond("alpha 1") if label == "MSTA" else cond(label, plan.efficiency_seeds)
        if not got:
            lines.append(f"| {label} | not run | | | | |")
            continue
        runs = list(got.values())
        s = stats.base_novel(_stack(runs, "base"), _stack(runs, "novel"))
        sec = np.mean([r["seconds_per_epoch"] for r in runs])
        lines.append(f"| {label}{_n(got, seeds if label == 'MSTA' else plan.efficiency_seeds)} | "
                     f"{_ci(s['base'])} | {_ci(s['novel'])} | {_ci(s['hm'])} | "
                     f"{runs[0]['trainable']:,} | {sec:.2f} |")
    lines += ["", "Validation grid (lambda x epochs, seed 0; base / novel top-1 with and without L_CC):", "",
              "| lambda | epochs | base a=1 | novel a=1 | HM a=1 | base a=0 | novel a=0 |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in sel["grid"]:
        lines.append(f"| {r['lambda']} | {r['epochs']} | {_pct(r['base'])} | {_pct(r['novel'])} | {_pct(r['hm'])} | "
                     f"{_pct(r['base_alpha0'])} | {_pct(r['novel_alpha0'])} |")
    if "seconds" not in raw:
        return "\n".join(lines) + "\n\n(run cut short: the rows above are the jobs that had finished)\n"
    lines.append(f"\n{raw['seconds']:.0f} s wall with {raw['workers']} worker processes (backbone "
                 f"{raw['pretrain_seconds']:.0f} s of it, {raw['pretrain_cpu_seconds']:.0f} CPU seconds); the jobs used {raw['job_cpu_seconds']:.0f} CPU seconds "
                 f"(one thread each), so about {raw['job_cpu_seconds'] / raw['workers']:.0f} s of wall on an idle "
                 f"{raw['workers']}-core box.\n")
    return "\n".join(lines) + "\n"
