"""Pretraining the tiny video-language backbone (both towers, from scratch) on the synthetic
caption corpus: 65 concepts (4 colours x 2 shapes x 8 motions + idle), each with several
paraphrased captions.

Plain in-batch contrastive learning from random init stalls (identical embeddings give no
signal), so each step scores every clip against one freshly drawn caption of EVERY concept
(a caption bank, as in CLIP's zero-shot classifier) and uses cross-entropy to the clip's
concept: a contrastive objective with all 65 negatives always present. Even so, with both
towers moving the video tower picks up colour at once but motion only slowly; a learned anchor
vector per concept (a supervised warm-up that runs alongside) gives both towers a fixed target
early on: loss = CE(video, bank) + CE(video, anchors) + CE(captions, anchors)."""
from __future__ import annotations

import math
import random
import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch
from tqdm import tqdm

from . import synth
from .checkpoint import save_checkpoint
from .config import BackboneConfig
from .losses import classification_loss
from .model import MSTAModel
from .tokenizer import Tokenizer

MAX_LOGIT_SCALE = 100.0
ANCHOR_SCALE = 20.0


def render_batch(rng: np.random.Generator, concepts: list, picks: np.ndarray, cfg: BackboneConfig,
                 interval_ms: float) -> torch.Tensor:
    clips = [synth.pretrain_clip(rng, concepts[i], cfg.frames, cfg.image_size, interval_ms) for i in picks]
    return torch.from_numpy(np.stack(clips))


def pretrain(cfg: BackboneConfig, vocab: Path, out: Path, steps: int, batch: int, lr: float, seed: int,
             interval_ms: float, log=print, concepts: Optional[list] = None,
             captions: Callable[[tuple], list[str]] = synth.captions,
             on_step: Optional[Callable[[int, MSTAModel], None]] = None) -> MSTAModel:
    """concepts / captions: the corpus (default: synth's 65 concepts); on_step(step, model) after
    every optimiser step (e.g. to log a zero-shot curve)."""
    torch.manual_seed(seed)
    random.seed(seed)
    rng = np.random.default_rng(seed)
    tokenizer = Tokenizer(vocab)
    if tokenizer.vocab_size != cfg.vocab_size:
        raise ValueError(f"{vocab}: {tokenizer.vocab_size} tokens, config says {cfg.vocab_size}")
    concepts = synth.concepts() if concepts is None else concepts
    bank = [torch.tensor(tokenizer.tokenize(captions(c), cfg.context_length)) for c in concepts]
    model = MSTAModel(cfg, None)
    for p in model.backbone.parameters():
        p.requires_grad_(True)
    anchors = torch.nn.Parameter(torch.randn(len(concepts), cfg.embed_dim))
    opt = torch.optim.AdamW(list(model.backbone.parameters()) + [anchors], lr=lr, weight_decay=0.05)
    warmup = max(steps // 20, 1)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warmup, 0.5 * (1 + math.cos(math.pi * min(s / steps, 1.0)))))
    model.train()
    start = time.time()
    bar = tqdm(range(steps), desc="pretrain", leave=False)
    acc_window: list[float] = []
    for step in bar:
        picks = rng.integers(0, len(concepts), size=batch)
        frames = render_batch(rng, concepts, picks, cfg, interval_ms)
        ids = torch.stack([rows[rng.integers(0, len(rows))] for rows in bank])
        video = model.encode_video(frames)
        text = model.encode_text(ids)
        scale = model.backbone.logit_scale.exp()
        logits_target = torch.from_numpy(picks)
        anchor = torch.nn.functional.normalize(anchors, dim=-1)
        loss = (classification_loss(video, text, scale, logits_target)
                + classification_loss(video, anchor, ANCHOR_SCALE, logits_target)
                + classification_loss(text, anchor, ANCHOR_SCALE, torch.arange(len(concepts))))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():
            model.backbone.logit_scale.clamp_(max=math.log(MAX_LOGIT_SCALE))
            acc_window = (acc_window + [float(((video @ text.T).argmax(-1) == logits_target).float().mean())])[-20:]
        bar.set_postfix(loss=f"{loss.item():.3f}", acc=f"{np.mean(acc_window):.2f}")
        if on_step is not None:
            model.eval()
            on_step(step + 1, model)
            model.train()
    log(f"pretrain: {steps} steps in {time.time() - start:.0f} s, last-20-step batch accuracy {np.mean(acc_window):.3f}, "
        f"logit scale {model.logit_scale():.1f}")
    model.eval()
    save_checkpoint(out, model, {"kind": "pretrained-backbone", "frame_interval_ms": interval_ms, "steps": steps},
                    Path(vocab).read_bytes())
    return model
