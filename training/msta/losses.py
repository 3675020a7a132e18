"""MSTA's objective: cross-entropy over class texts plus the consistency constraint L_CC."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def classification_loss(video: torch.Tensor, class_text: torch.Tensor, logit_scale: float,
                        targets: torch.Tensor) -> torch.Tensor:
    """video [B, D], class_text [C, D] (both L2-normalised), targets [B]."""
    return F.cross_entropy(logit_scale * video @ class_text.T, targets)


def consistency_loss(adapted: torch.Tensor, spatial: torch.Tensor, temporal: torch.Tensor) -> torch.Tensor:
    """L_CC = mean_c [2 - cos(w_c, Ds_c) - cos(w_c, Dt_c)].

    adapted [C, D]: the trainable text branch's embeddings of "a video of {c}."
    spatial, temporal [C, D]: means of the frozen text branch's embeddings of each class's
    spatial / temporal descriptions (cosine ignores their length)."""
    if not adapted.shape == spatial.shape == temporal.shape:
        raise ValueError(f"L_CC: shapes differ: {list(adapted.shape)}, {list(spatial.shape)}, {list(temporal.shape)}")
    cos_s = F.cosine_similarity(adapted, spatial, dim=-1)
    cos_t = F.cosine_similarity(adapted, temporal, dim=-1)
    return (2 - cos_s - cos_t).mean()
