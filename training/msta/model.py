"""Backbone (frozen) + MSTA adapters (trainable): the video and text encoders MSTA trains and exports."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from .adapters import MSTA
from .backbones import Backbone
from .config import AdapterConfig, BackboneConfig


class MSTAModel(nn.Module):
    def __init__(self, backbone_cfg: BackboneConfig, adapter_cfg: Optional[AdapterConfig]):
        super().__init__()
        self.backbone = Backbone(backbone_cfg)
        self.adapters = MSTA(backbone_cfg, adapter_cfg) if adapter_cfg else None
        self.freeze_backbone()

    @property
    def cfg(self) -> BackboneConfig:
        return self.backbone.cfg

    def freeze_backbone(self) -> None:
        for p in self.backbone.parameters():
            p.requires_grad_(False)

    def encode_video(self, frames: torch.Tensor, adapted: bool = True) -> torch.Tensor:
        """uint8 [B, T, H, W, 3] RGB -> L2-normalised [B, D]."""
        x = self.backbone.normalise_frames(frames)
        adapters = self.adapters.vision_adapters(self.cfg.token_frames) if adapted and self.adapters else None
        return F.normalize(self.backbone.vision(x, adapters), dim=-1)

    def encode_text(self, ids: torch.Tensor, adapted: bool = True) -> torch.Tensor:
        """int64 [N, L] -> L2-normalised [N, D]; adapted=False is the frozen text branch."""
        if ids.dim() != 2 or ids.shape[1] != self.cfg.context_length:
            raise ValueError(f"input_ids: expected [N, {self.cfg.context_length}], got {list(ids.shape)}")
        adapters = self.adapters.text_adapters() if adapted and self.adapters else None
        return F.normalize(self.backbone.text(ids, adapters), dim=-1)

    def logit_scale(self) -> float:
        return float(self.backbone.logit_scale.exp())


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(total, trainable)"""
    params = list(model.parameters())
    return sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad)
