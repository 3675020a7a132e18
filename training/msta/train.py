"""Few-shot MSTA fine-tuning: frozen backbone, trainable adapters, loss CE + alpha * L_CC,
AdamW with a cosine schedule after linear warm-up, a checkpoint after every epoch (resumable),
and a held-out evaluation at the end."""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch
from tqdm import tqdm

from . import synth, video
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .config import AdapterConfig
from .augment import augment
from .data import Clip
from .descriptions import cut_to_context
from .losses import classification_loss, consistency_loss
from .model import MSTAModel
from .tokenizer import Tokenizer

TEMPLATE = "a video of {}."


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


@dataclass
class TrainConfig:
    epochs: int = 20
    batch: int = 16
    lr: float = 1e-3
    weight_decay: float = 1e-3
    warmup_epochs: int = 5
    alpha: float = 1.0  # weight of L_CC; 0 turns it off
    frame_interval_ms: float = 160.0
    seed: int = 0
    color_jitter: float = 0.0  # probability per clip (the authors: 0.8)
    grayscale: float = 0.0  # probability per clip (the authors: 0.2)


def window(clip: Clip, frames: int, interval_ms: float, rng: Optional[np.random.Generator]) -> np.ndarray:
    """T frames one interval apart: a random window when training, the centred one for evaluation."""
    return video.sample(clip.frames, clip.fps, synth.sample_times(clip.seconds, frames, interval_ms, rng))


class TextTargets:
    """Token ids of the class prompts and the frozen branch's description means."""

    def __init__(self, model: MSTAModel, tokenizer: Tokenizer, labels: list[str],
                 descriptions: Optional[dict[str, dict[str, list[str]]]]):
        L = model.cfg.context_length
        self.ids = torch.tensor(tokenizer.tokenize([TEMPLATE.format(c) for c in labels], L))
        self.spatial = self.temporal = None
        if descriptions is not None:
            with torch.no_grad():
                def mean_of(kind: str) -> torch.Tensor:
                    return torch.stack([
                        model.encode_text(torch.tensor(tokenizer.tokenize(descriptions[c][kind], L)), adapted=False).mean(0)
                        for c in labels])
                self.spatial, self.temporal = mean_of("spatial"), mean_of("temporal")


def warmup_epochs(cfg: TrainConfig) -> int:
    """The warm-up in epochs, cut to end one epoch before the training does: a warm-up as long as
    the training (2 epochs with the default of 5) would keep the rate below --lr throughout."""
    return min(cfg.warmup_epochs, cfg.epochs - 1)


def lr_lambda(cfg: TrainConfig, steps_per_epoch: int) -> Callable[[int], float]:
    warm = warmup_epochs(cfg) * steps_per_epoch
    total = cfg.epochs * steps_per_epoch

    def f(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(total - warm, 1)))
    return f


def evaluate(model: MSTAModel, tokenizer: Tokenizer, clips: list[Clip], labels: list[str], interval_ms: float,
             batch: int = 32, adapted: bool = True) -> tuple[float, np.ndarray]:
    """(top-1, confusion [true, predicted]) with each clip's centred window; adapted=False: the
    bare backbone (adapters off)."""
    if not clips:
        raise ValueError("evaluation: no clips")
    model.eval()
    index = {c: i for i, c in enumerate(labels)}
    confusion = np.zeros((len(labels), len(labels)), dtype=int)
    with torch.no_grad():
        text = model.encode_text(torch.tensor(tokenizer.tokenize([TEMPLATE.format(c) for c in labels], model.cfg.context_length)),
                                 adapted=adapted)
        for i in range(0, len(clips), batch):
            part = clips[i:i + batch]
            frames = torch.from_numpy(np.stack([window(c, model.cfg.frames, interval_ms, None) for c in part]))
            pred = (model.encode_video(frames, adapted=adapted) @ text.T).argmax(-1)
            for c, p in zip(part, pred.tolist()):
                confusion[index[c.label], p] += 1
    return float(np.trace(confusion) / confusion.sum()), confusion


def train(model: MSTAModel, tokenizer: Tokenizer, vocab_gz: bytes, clips: list[Clip], labels: list[str],
          descriptions: Optional[dict], cfg: TrainConfig, out: Path, meta: dict, resume: bool = False,
          log: Callable[[str], None] = print, warn: Callable[[str], None] = _stderr,
          validate: Optional[Callable[[MSTAModel], float]] = None, val_every: int = 0) -> MSTAModel:
    """warn: one line per description the text context cuts short. validate (top-1 on a
    validation split) every val_every epochs and after the last: the best epoch's model is also
    written to out/best.pt (the authors keep best.pth the same way)."""
    if cfg.epochs < 1:
        raise ValueError(f"train: epochs must be at least 1, got {cfg.epochs}")
    if not labels:
        raise ValueError("train: the label set is empty")
    if model.adapters is None:
        raise ValueError("train: the model has no adapters")
    unknown = sorted({c.label for c in clips} - set(labels))
    if unknown:
        raise ValueError(f"train: clips with labels outside the label set: {', '.join(unknown)}")
    if not clips:
        raise ValueError("train: no training clips")
    if cfg.alpha > 0 and descriptions is None:
        raise ValueError("train: L_CC (alpha > 0) needs class descriptions")
    if warmup_epochs(cfg) < cfg.warmup_epochs:
        log(f"warm-up shortened from {cfg.warmup_epochs} to {warmup_epochs(cfg)} epochs: it would last all "
            f"{cfg.epochs} epochs of training and the learning rate never reach {cfg.lr}")
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    if cfg.alpha > 0:
        for line in cut_to_context({c: descriptions[c] for c in labels}, tokenizer, model.cfg.context_length):
            warn(line)
    targets = TextTargets(model, tokenizer, labels, descriptions if cfg.alpha > 0 else None)
    label_index = {c: i for i, c in enumerate(labels)}
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(clips) / cfg.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(cfg, steps_per_epoch))
    ckpt = out / "checkpoint.pt"
    first_epoch = 0
    best = {"epoch": None, "top1": -1.0}
    if resume and ckpt.is_file():
        saved, blob = load_checkpoint(ckpt)
        state = blob["train_state"]
        if state is None:
            raise CheckpointError(f"{ckpt}: no training state to resume from")
        model.adapters.load_state_dict(saved.adapters.state_dict())
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        first_epoch = state["epoch"] + 1
        best = state.get("best", best)
        log(f"resumed from {ckpt} after epoch {first_epoch}")
    scale = model.logit_scale()
    for epoch in range(first_epoch, cfg.epochs):
        model.train()
        order = rng.permutation(len(clips))
        totals = {"loss": 0.0, "ce": 0.0, "cc": 0.0}
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False)
        for s in bar:
            part = [clips[i] for i in order[s * cfg.batch:(s + 1) * cfg.batch]]
            frames = np.stack([window(c, model.cfg.frames, cfg.frame_interval_ms, rng) for c in part])
            if cfg.color_jitter > 0 or cfg.grayscale > 0:
                frames = np.stack([augment(f, rng, cfg.color_jitter, cfg.grayscale) for f in frames])
            frames = torch.from_numpy(frames)
            y = torch.tensor([label_index[c.label] for c in part])
            text = model.encode_text(targets.ids)
            ce = classification_loss(model.encode_video(frames), text, scale, y)
            cc = consistency_loss(text, targets.spatial, targets.temporal) if cfg.alpha > 0 else torch.zeros(())
            loss = ce + cfg.alpha * cc
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            for k, v in (("loss", loss), ("ce", ce), ("cc", cc)):
                totals[k] += float(v) / steps_per_epoch
            bar.set_postfix(loss=f"{loss.item():.3f}")
        checked = validate is not None and val_every > 0 and ((epoch + 1) % val_every == 0 or epoch + 1 == cfg.epochs)
        top1 = validate(model) if checked else None
        improved = top1 is not None and top1 > best["top1"]
        if improved:
            best = {"epoch": epoch + 1, "top1": top1}
        state = {"epoch": epoch, "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                 "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(), "config": cfg.__dict__, "best": best}
        full_meta = {**meta, "labels": labels, "template": TEMPLATE, "frame_interval_ms": cfg.frame_interval_ms}
        save_checkpoint(ckpt, model, full_meta, vocab_gz, state)
        if improved:
            save_checkpoint(out / "best.pt", model, {**full_meta, "best_epoch": epoch + 1, "val_top1": top1}, vocab_gz, None)
        log(f"epoch {epoch + 1}/{cfg.epochs}: loss {totals['loss']:.4f} (ce {totals['ce']:.4f}, L_CC {totals['cc']:.4f})"
            + (f", validation top-1 {top1:.4f}" + (" (best so far)" if improved else "") if top1 is not None else ""))
    if first_epoch >= cfg.epochs:
        log(f"{ckpt}: already trained for all {cfg.epochs} epochs; nothing to do")
    model.eval()
    return model


def with_adapters(backbone_ckpt: Path, adapter_cfg: AdapterConfig, seed: int = 0) -> tuple[MSTAModel, bytes, dict]:
    """A pretrained backbone checkpoint with fresh adapters on top, initialised from `seed` (train
    seeds only its own steps: unseeded, the init would differ from run to run)."""
    base, blob = load_checkpoint(backbone_ckpt)
    torch.manual_seed(seed)
    model = MSTAModel(base.cfg, adapter_cfg)
    model.backbone.load_state_dict(base.backbone.state_dict())
    model.freeze_backbone()
    return model, blob["vocab_gz"], blob["meta"]

