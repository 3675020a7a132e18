"""paper-table: pretrain (or reuse) the held-out backbone, then run every job in a process pool
(one torch thread each) and write results.json and a markdown report."""
from __future__ import annotations

import json
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from . import backbone, jobs, report, world
from .fit import FitConfig

LAMBDAS = (0.005, 0.05, 0.5)
# base-to-novel conditions: (name, method, alpha, descriptions, L_CC terms)
CONDITIONS = (("alpha 0", "msta", 0.0, "own", "both"), ("alpha 1", "msta", 1.0, "own", "both"),
              ("alpha 1, shuffled descriptions", "msta", 1.0, "shuffled", "both"),
              ("alpha 1, temporal descriptions only", "msta", 1.0, "own", "temporal"))
EFFICIENCY = (("MSTA", "msta"), ("text-only adapters", "text-only"), ("vision-only adapters", "vision-only"),
              ("full fine-tuning", "full"))


@dataclass(frozen=True)
class Plan:
    seeds: int = 5
    shots: tuple = (1, 4, 16)
    eval_per_label: int = 40
    val_eval_per_label: int = 20
    few_shot_epochs: tuple = ((1, 20), (4, 20), (16, 10))  # (K, epochs): 20, 80 and 150 steps
    few_shot_lambda: float = 0.05
    efficiency_seeds: int = 3  # text-only, vision-only, full fine-tuning (MSTA is the alpha-1 row)
    val_epochs: int = 30
    every_val: int = 5  # validation: base / novel top-1 logged (and selectable) every 5 epochs
    every: int = 10  # test runs: novel top-1 logged as training goes

    @staticmethod
    def quick() -> "Plan":
        return Plan(seeds=2, shots=(1, 16), eval_per_label=10, val_eval_per_label=8,
                    few_shot_epochs=((1, 10), (16, 5)), efficiency_seeds=1, val_epochs=20)


def select(val: dict, zero: dict) -> dict:
    """lambda and epoch count from the validation split (base labels only): the best validation
    HM with L_CC among the settings where training without L_CC costs validation-novel accuracy
    against the bare backbone (the regime L_CC is for); the best HM overall if there is none."""
    rows = []
    for lam in LAMBDAS:
        with_cc, without = dict(val[(lam, 1.0)]["curve"]), dict(val[(lam, 0.0)]["curve"])
        for epoch, m in with_cc.items():
            hm = 2 * m["base"] * m["novel"] / max(m["base"] + m["novel"], 1e-9)
            rows.append({"lambda": lam, "epochs": epoch, "hm": hm, "novel": m["novel"], "base": m["base"],
                         "novel_alpha0": without[epoch]["novel"], "base_alpha0": without[epoch]["base"]})
    costly = [r for r in rows if r["novel_alpha0"] < zero["novel"]]
    best = max(costly or rows, key=lambda r: (r["hm"], -r["epochs"]))
    return {**best, "rule": "costs-novel" if costly else "best-hm", "grid": rows, "zero_shot": zero}


def paper_table(cache: Path, out: Path, plan: Plan, workers: int, log: Callable[[str], None] = print) -> dict:
    """Validation first, then the few-shot and base-to-novel jobs; results.json is rewritten as
    results arrive, the report once everything is in."""
    t0 = time.time()
    out.mkdir(parents=True, exist_ok=True)
    cpu0 = time.process_time()
    ckpt = backbone.build(cache, log=log)
    pretrain_seconds, pretrain_cpu = time.time() - t0, time.process_time() - cpu0
    log(f"[{pretrain_seconds:5.0f} s] backbone ready")
    setup = jobs.Setup(str(ckpt), plan.eval_per_label, plan.val_eval_per_label)
    base_cfg = FitConfig()
    epochs = dict(plan.few_shot_epochs)
    raw = {"plan": asdict(plan), "workers": workers, "pretrain_seconds": pretrain_seconds,
           "pretrain_cpu_seconds": pretrain_cpu, "backbone": str(ckpt), "backbone_settings": backbone.settings(),
           "few_shot_config": repr(jobs.with_lambda(base_cfg, plan.few_shot_lambda)), "validation": {},
           "few_shot": {}, "base_to_novel": {}}

    def save() -> None:
        (out / "results.json").write_text(json.dumps(raw) + "\n")

    with ProcessPoolExecutor(workers, initializer=jobs.init_worker) as pool:
        zero_f = pool.submit(jobs.zero_shot, setup)
        val_f = {(lam, a): pool.submit(jobs.base_to_novel, setup, "msta", 0,
                                       jobs.with_lambda(base_cfg, lam, plan.val_epochs, a), "own", True,
                                       plan.every_val)
                 for lam in LAMBDAS for a in (0.0, 1.0)}

        def few(shots: list[int]) -> dict:
            return {f"{m}/{k}/{s}": pool.submit(jobs.few_shot, setup, m, k, s,
                                                 jobs.with_lambda(base_cfg, plan.few_shot_lambda, epochs[k]))
                    for k in shots for s in range(plan.seeds) for m in ("msta", "msta-no-temporal", "linear-probe")}

        pending = few([k for k in plan.shots if k < max(plan.shots)])
        raw["zero_shot"] = zero_f.result()
        val = {key: f.result() for key, f in val_f.items()}
        raw["validation"] = {f"{k[0]}/{k[1]}": v["curve"] for k, v in val.items()}
        chosen = select(val, val[(LAMBDAS[0], 0.0)]["zero_shot"])
        raw["selection"] = chosen
        save()
        log(f"[{time.time() - t0:5.0f} s] validation: lambda {chosen['lambda']}, {chosen['epochs']} epochs "
            f"(rule {chosen['rule']})")
        b2n_cfg = jobs.with_lambda(base_cfg, chosen["lambda"], chosen["epochs"])
        raw["b2n_config"] = repr(b2n_cfg)
        for name, method, alpha, desc, cc in CONDITIONS:
            cfg = jobs.with_lambda(b2n_cfg, chosen["lambda"], alpha=alpha, cc=cc)
            for s in range(plan.seeds):
                pending[f"b2n:{name}/{s}"] = pool.submit(jobs.base_to_novel, setup, method, s, cfg, desc, False,
                                                         plan.every)
        pending.update(few([max(plan.shots)]))
        for name, method in EFFICIENCY[1:]:
            for s in range(plan.efficiency_seeds):
                pending[f"b2n:{name}/{s}"] = pool.submit(jobs.base_to_novel, setup, method, s, b2n_cfg, "own", False,
                                                         plan.every)
        names = {f: key for key, f in pending.items()}
        for f in as_completed(names):
            key = names[f]
            if key.startswith("b2n:"):
                raw["base_to_novel"][key[4:]] = f.result()
            else:
                raw["few_shot"][key] = f.result()
            save()
    raw["seconds"] = time.time() - t0
    raw["job_cpu_seconds"] = (sum(r["cpu_seconds"] for group in (val, raw["few_shot"], raw["base_to_novel"])
                                  for r in group.values()) + raw["zero_shot"]["cpu_seconds"])
    save()
    text = report.render(raw, plan, world)
    (out / "paper-table.md").write_text(text)
    log(text)
    log(f"paper-table: {raw['seconds']:.0f} s in all, results in {out}")
    return raw
