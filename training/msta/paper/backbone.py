"""The experiment's backbone: the tiny ViCLIP pretrained on the held-out corpus (world.py),
cached by its settings so later runs reuse it (regenerated when missing)."""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

from ..checkpoint import load_checkpoint
from ..config import backbone_preset
from ..model import MSTAModel
from ..pretrain import pretrain
from ..tokenizer import Tokenizer, learn_merges, write_merges
from . import world

PRETRAIN_STEPS = 800
PRETRAIN_BATCH = 32
PRETRAIN_LR = 3e-3
PRETRAIN_SEED = 11


def settings(steps: int = PRETRAIN_STEPS) -> dict:
    return {"steps": steps, "batch": PRETRAIN_BATCH, "lr": PRETRAIN_LR, "seed": PRETRAIN_SEED,
            "square_motions": list(world.SQUARE_MOTIONS), "ball_colours": list(world.SOURCE_BALL_COLOURS),
            "interval_ms": world.INTERVAL_MS, "corpus": hashlib.sha256("\n".join(world.corpus()).encode()).hexdigest()[:16]}


def cache_path(cache: Path, steps: int = PRETRAIN_STEPS) -> Path:
    key = hashlib.sha256(json.dumps(settings(steps), sort_keys=True).encode()).hexdigest()[:12]
    return cache / f"paper-backbone-{key}.pt"


def build(cache: Path, steps: int = PRETRAIN_STEPS, log: Callable[[str], None] = print,
          on_step: Optional[Callable[[int, MSTAModel, Tokenizer], None]] = None) -> Path:
    """The cached backbone checkpoint, pretrained first if it is not there yet."""
    path = cache_path(cache, steps)
    if path.is_file():
        log(f"backbone: cached {path}")
        return path
    cache.mkdir(parents=True, exist_ok=True)
    vocab = path.with_suffix(".vocab.txt.gz")
    write_merges(vocab, learn_merges(world.corpus(), 2000))
    tokenizer = Tokenizer(vocab)
    cfg = backbone_preset("viclip-tiny", vocab_size=tokenizer.vocab_size)
    start = time.time()
    tmp = path.with_suffix(".partial")
    pretrain(cfg, vocab, tmp, steps, PRETRAIN_BATCH, PRETRAIN_LR, PRETRAIN_SEED, world.INTERVAL_MS, log=log,
             concepts=world.source_concepts(), captions=world.source_captions,
             on_step=None if on_step is None else (lambda s, m: on_step(s, m, tokenizer)))
    tmp.rename(path)
    log(f"backbone: pretrained {steps} steps in {time.time() - start:.0f} s -> {path}")
    return path


def load(path: Path) -> tuple[MSTAModel, Tokenizer, Path]:
    """(bare backbone, its tokenizer, vocabulary file)."""
    model, blob = load_checkpoint(path)
    vocab = path.with_suffix(".vocab.txt.gz")
    if not vocab.is_file():
        vocab.write_bytes(blob["vocab_gz"])
    return model, Tokenizer(vocab), vocab


def zero_shot(model: MSTAModel, tokenizer: Tokenizer, clips: np.ndarray, ys: np.ndarray,
              labels: tuple[str, ...]) -> float:
    """Top-1 of the bare backbone (adapters off) on centred windows [N, 1, T, S, S, 3]."""
    from .fit import predict, prompt_ids
    pred = predict(model, prompt_ids(tokenizer, labels, model.cfg.context_length), clips[:, 0])
    return float((pred == ys).mean())
