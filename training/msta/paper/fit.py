"""Training and scoring on in-memory clips: MSTA and its ablations, text- or vision-only adapters,
full fine-tuning, and a linear probe; every baseline without adapters is the bare backbone."""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F

from ..config import AdapterConfig
from ..losses import classification_loss
from ..model import MSTAModel
from ..tokenizer import Tokenizer
from ..train import TEMPLATE

# Which branches carry (trained) adapters, per method; "full" trains the whole backbone instead.
BRANCHES = {"msta": (True, True), "msta-no-temporal": (True, True), "text-only": (False, True),
            "vision-only": (True, False), "full": (False, False)}


@dataclass(frozen=True)
class FitConfig:
    epochs: int = 20
    batch: int = 16
    lr: float = 1e-2  # tuned for the tiny backbone (the logs: 1e-3 at width 768)
    weight_decay: float = 1e-3
    warmup_epochs: int = 2
    alpha: float = 1.0
    cc: str = "both"  # "both": L_CC as in the paper; "temporal": the temporal term only
    full_lr: float = 1e-4  # full fine-tuning: a smaller step for the whole backbone
    adapter: AdapterConfig = field(default_factory=lambda: AdapterConfig(dim=32, first_layer=2, last_layer=3,
                                                                         scale=0.05))


def prompt_ids(tokenizer: Tokenizer, labels, context: int) -> torch.Tensor:
    return torch.tensor(tokenizer.tokenize([TEMPLATE.format(c) for c in labels], context))


def _video(model: MSTAModel, frames: np.ndarray, adapted: bool) -> torch.Tensor:
    return model.encode_video(torch.from_numpy(np.ascontiguousarray(frames)), adapted=adapted)


def features(model: MSTAModel, clips: np.ndarray, adapted: bool = True, batch: int = 64) -> torch.Tensor:
    """L2-normalised video embeddings of windows [N, T, S, S, 3]."""
    model.eval()
    with torch.no_grad():
        return torch.cat([_video(model, clips[i:i + batch], adapted) for i in range(0, len(clips), batch)])


def predict(model: MSTAModel, ids: torch.Tensor, clips: np.ndarray, vision: bool = True,
            text: bool = True) -> np.ndarray:
    """Top-1 class index per window [N, T, S, S, 3] (adapters of a branch used only if asked)."""
    with torch.no_grad():
        t = model.encode_text(ids, adapted=text)
    return (features(model, clips, vision) @ t.T).argmax(-1).numpy()


def description_means(model: MSTAModel, tokenizer: Tokenizer, labels, descriptions: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """The frozen text branch's mean embedding of each class's spatial / temporal descriptions."""
    L = model.cfg.context_length
    with torch.no_grad():
        def mean_of(kind: str) -> torch.Tensor:
            return torch.stack([model.encode_text(torch.tensor(tokenizer.tokenize(descriptions[c][kind], L)),
                                                  adapted=False).mean(0) for c in labels])
        return mean_of("spatial"), mean_of("temporal")


def cc_loss(text: torch.Tensor, spatial: torch.Tensor, temporal: torch.Tensor, mode: str) -> torch.Tensor:
    cos_t = F.cosine_similarity(text, temporal, dim=-1)
    if mode == "temporal":
        return (1 - cos_t).mean()
    return (2 - F.cosine_similarity(text, spatial, dim=-1) - cos_t).mean()


def with_method(backbone: MSTAModel, method: str, cfg: FitConfig) -> MSTAModel:
    """A copy of the bare backbone set up for `method`: adapters (fresh, seeded by the caller's
    torch seed) or, for "full", every backbone weight trainable."""
    if method not in BRANCHES:
        raise ValueError(f"unknown method {method!r}; known: {', '.join(BRANCHES)}")
    adapter = None
    if method != "full":
        adapter = replace(cfg.adapter, temporal=method != "msta-no-temporal")
    model = MSTAModel(backbone.cfg, adapter)
    model.backbone.load_state_dict(backbone.backbone.state_dict())
    model.freeze_backbone()
    if method == "full":
        for name, p in model.backbone.named_parameters():
            p.requires_grad_(name != "logit_scale")
    elif method == "text-only":
        for p in model.adapters.vision.parameters():
            p.requires_grad_(False)
    elif method == "vision-only":
        for p in model.adapters.text.parameters():
            p.requires_grad_(False)
    return model


@dataclass
class FitResult:
    model: MSTAModel
    seconds_per_epoch: float  # CPU seconds of this process (one thread): load on the box does not inflate it
    trainable: int
    curve: list = field(default_factory=list)  # [(epoch, on_epoch's value)]


def fit(model: MSTAModel, method: str, ids: torch.Tensor, clips: np.ndarray, ys: np.ndarray,
        cfg: FitConfig, seed: int, cc_targets: Optional[tuple[torch.Tensor, torch.Tensor]] = None,
        on_epoch: Optional[Callable[[int, MSTAModel], object]] = None, every: int = 0) -> FitResult:
    """CE (+ alpha L_CC) on support clips [N, W, T, S, S, 3] (W pre-rendered windows per clip,
    one drawn per visit), AdamW, linear warm-up then cosine per step."""
    use_vision, use_text = BRANCHES[method]
    if method == "full":
        use_vision = use_text = True  # the backbone itself is what changes
    rng = np.random.default_rng(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    lr = cfg.full_lr if method == "full" else cfg.lr
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(clips) / cfg.batch)
    warm, total = cfg.warmup_epochs * steps_per_epoch, cfg.epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / warm if s < warm else
                                              0.5 * (1 + math.cos(math.pi * (s - warm) / max(total - warm, 1))))
    scale = model.logit_scale()
    targets = torch.from_numpy(ys)
    use_cc = cfg.alpha > 0 and cc_targets is not None and use_text
    result = FitResult(model, 0.0, sum(p.numel() for p in params))
    spent = 0.0
    for epoch in range(cfg.epochs):
        start = time.process_time()
        model.train()
        order = rng.permutation(len(clips))
        for s in range(steps_per_epoch):
            pick = order[s * cfg.batch:(s + 1) * cfg.batch]
            views = rng.integers(0, clips.shape[1], size=len(pick))
            text = model.encode_text(ids, adapted=use_text)
            loss = classification_loss(_video(model, clips[pick, views], use_vision), text, scale, targets[pick])
            if use_cc:
                loss = loss + cfg.alpha * cc_loss(text, *cc_targets, cfg.cc)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        spent += time.process_time() - start
        if on_epoch is not None and every and ((epoch + 1) % every == 0 or epoch + 1 == cfg.epochs):
            model.eval()
            result.curve.append((epoch + 1, on_epoch(epoch + 1, model)))
    model.eval()
    result.seconds_per_epoch = spent / max(cfg.epochs, 1)
    return result


def frozen_copy(model: MSTAModel) -> MSTAModel:
    """For full fine-tuning: the frozen text branch L_CC compares with must not move."""
    return copy.deepcopy(model).eval()


def linear_probe(train_feats: torch.Tensor, ys: np.ndarray, classes: int, seed: int, steps: int = 300,
                 lr: float = 1e-2, weight_decay: float = 1e-3) -> torch.nn.Linear:
    """Logistic regression on frozen, L2-normalised video features (full batch, AdamW)."""
    torch.manual_seed(seed)
    head = torch.nn.Linear(train_feats.shape[1], classes)
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay)
    y = torch.from_numpy(ys)
    for _ in range(steps):
        loss = F.cross_entropy(head(train_feats * 10.0), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return head


def probe_predict(head: torch.nn.Linear, feats: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return head(feats * 10.0).argmax(-1).numpy()
