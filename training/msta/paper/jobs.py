"""One experiment run per job (a process each, torch at 1 thread): few-shot, base-to-novel
validation and test, parameter efficiency. Jobs return per-clip correctness so the report can
bootstrap over seeds and clips."""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import lru_cache, wraps
from pathlib import Path

import numpy as np
import torch

from . import world
from .backbone import load
from .fit import (FitConfig, description_means, features, fit, linear_probe, predict, probe_predict, prompt_ids,
                  with_method)

SUPPORT_WINDOWS = 4  # pre-rendered sampling windows per support clip (augmentation)
EVAL_SEED = 20261201  # the held-out evaluation clips
VAL_TRAIN_SEED, VAL_EVAL_SEED = 4100, 4200


@dataclass(frozen=True)
class Setup:
    backbone: str  # checkpoint path
    eval_per_label: int
    val_eval_per_label: int
    b2n_per_label: int = 16


def init_worker() -> None:
    torch.set_num_threads(1)


def _cpu_timed(fn):
    """Adds the job's CPU seconds (one thread, so about its wall time on an idle core)."""
    @wraps(fn)
    def run(*args, **kwargs) -> dict:
        start = time.process_time()
        out = fn(*args, **kwargs)
        return {**out, "cpu_seconds": time.process_time() - start}
    return run


@lru_cache(maxsize=1)
def _backbone(path: str):
    return load(Path(path))


@lru_cache(maxsize=4)
def _centred(labels: tuple[str, ...], per_label: int, seed: int, size: int, frames: int):
    """Evaluation clips (one centred window each), rendered once per process."""
    return world.render_set(labels, per_label, seed, size, frames, 1, True)


def _use(setup: Setup):
    return _backbone(setup.backbone)


def eval_set(setup: Setup):
    cfg = _use(setup)[0].cfg
    return _centred(world.TARGETS, setup.eval_per_label, EVAL_SEED, cfg.image_size, cfg.frames)


def _reversed(clips: np.ndarray, ys: np.ndarray, labels) -> tuple[np.ndarray, np.ndarray]:
    index = {c: i for i, c in enumerate(labels)}
    return clips[:, :, ::-1], np.array([index[world.reversed_label(labels[y])] for y in ys])


def _subset(clips, ys, all_labels, labels):
    """The clips of `labels`, re-indexed within `labels` (classified among them only)."""
    keep = np.isin(ys, [all_labels.index(c) for c in labels])
    remap = {all_labels.index(c): i for i, c in enumerate(labels)}
    return clips[keep], np.array([remap[y] for y in ys[keep]])


@_cpu_timed
def zero_shot(setup: Setup) -> dict:
    """The bare backbone (no adapters) on the evaluation clips, forward and time-reversed."""
    model, tok, _ = _use(setup)
    clips, ys = eval_set(setup)
    rclips, rys = _reversed(clips, ys, world.TARGETS)
    ids = prompt_ids(tok, world.TARGETS, model.cfg.context_length)
    out = {"correct": (predict(model, ids, clips[:, 0]) == ys).tolist(),
           "reversed": (predict(model, ids, rclips[:, 0]) == rys).tolist()}
    for name, labels in (("base", world.BASE), ("novel", world.NOVEL)):
        c, y = _subset(clips, ys, list(world.TARGETS), labels)
        out[name] = (predict(model, prompt_ids(tok, labels, model.cfg.context_length), c[:, 0]) == y).tolist()
    return out


@_cpu_timed
def few_shot(setup: Setup, method: str, shots: int, seed: int, cfg: FitConfig) -> dict:
    """K shots per target label (support clips from seed 1000 * shots + seed), then top-1 on the
    held-out clips, forward and time-reversed (scored against the swapped label)."""
    model, tok, _ = _use(setup)
    labels = world.TARGETS
    clips, ys = eval_set(setup)
    rclips, rys = _reversed(clips, ys, labels)
    support, sy = world.render_set(labels, shots, 1000 * shots + seed, model.cfg.image_size, model.cfg.frames,
                                   SUPPORT_WINDOWS)
    ids = prompt_ids(tok, labels, model.cfg.context_length)
    if method == "linear-probe":
        flat = support.reshape(-1, *support.shape[2:])
        head = linear_probe(features(model, flat, adapted=False), np.repeat(sy, support.shape[1]), len(labels), seed)
        pred = probe_predict(head, features(model, clips[:, 0], adapted=False))
        rpred = probe_predict(head, features(model, rclips[:, 0], adapted=False))
        return {"correct": (pred == ys).tolist(), "reversed": (rpred == rys).tolist()}
    torch.manual_seed(seed)
    m = with_method(model, method, cfg)
    cc = description_means(model, tok, labels, world.descriptions(labels)) if cfg.alpha > 0 else None
    fit(m, method, ids, support, sy, cfg, seed, cc)
    return {"correct": (predict(m, ids, clips[:, 0]) == ys).tolist(),
            "reversed": (predict(m, ids, rclips[:, 0]) == rys).tolist()}


@_cpu_timed
def base_to_novel(setup: Setup, method: str, seed: int, cfg: FitConfig, descriptions: str = "own",
                  validation: bool = False, every: int = 5) -> dict:
    """Adapters trained on the base labels only (16 clips each); base clips classified among the
    base labels, novel clips among the novel labels. validation: the split inside the base
    labels (VAL_BASE trained, VAL_NOVEL held out) on its own clips. descriptions: "own" or
    "shuffled" (across the trained classes). Base and novel top-1 are logged every `every` epochs."""
    model, tok, _ = _use(setup)
    base, novel = (world.VAL_BASE, world.VAL_NOVEL) if validation else (world.BASE, world.NOVEL)
    if validation:
        size, frames = model.cfg.image_size, model.cfg.frames
        bc, by = _centred(base, setup.val_eval_per_label, VAL_EVAL_SEED, size, frames)
        nc, ny = _centred(novel, setup.val_eval_per_label, VAL_EVAL_SEED + 1, size, frames)
        support, sy = world.render_set(base, setup.b2n_per_label, VAL_TRAIN_SEED + seed, model.cfg.image_size,
                                       model.cfg.frames, SUPPORT_WINDOWS)
    else:
        clips, ys = eval_set(setup)
        bc, by = _subset(clips, ys, list(world.TARGETS), base)
        nc, ny = _subset(clips, ys, list(world.TARGETS), novel)
        support, sy = world.render_set(base, setup.b2n_per_label, 100 + seed, model.cfg.image_size, model.cfg.frames,
                                       SUPPORT_WINDOWS)
    L = model.cfg.context_length
    base_ids, novel_ids = prompt_ids(tok, base, L), prompt_ids(tok, novel, L)
    desc = world.descriptions(base, shuffle_seed=seed if descriptions == "shuffled" else None)
    cc = description_means(model, tok, base, desc) if cfg.alpha > 0 else None
    torch.manual_seed(seed)
    m = with_method(model, method, cfg)

    def measure(_epoch, mm) -> dict:
        return {"base": float((predict(mm, base_ids, bc[:, 0]) == by).mean()),
                "novel": float((predict(mm, novel_ids, nc[:, 0]) == ny).mean())}

    zero = measure(0, model)
    result = fit(m, method, base_ids, support, sy, cfg, seed, cc, on_epoch=measure, every=every)
    return {"base": (predict(m, base_ids, bc[:, 0]) == by).tolist(),
            "novel": (predict(m, novel_ids, nc[:, 0]) == ny).tolist(),
            "zero_shot": zero, "curve": result.curve, "trainable": result.trainable,
            "seconds_per_epoch": result.seconds_per_epoch}


def with_lambda(cfg: FitConfig, lam: float, epochs: int | None = None, alpha: float | None = None,
                cc: str | None = None) -> FitConfig:
    return replace(cfg, adapter=replace(cfg.adapter, scale=lam), epochs=epochs or cfg.epochs,
                   alpha=cfg.alpha if alpha is None else alpha, cc=cc or cfg.cc)
