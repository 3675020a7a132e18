"""MSTA adapters: y = lambda * up_m(ReLU(shared(ReLU(down_m(x))))) for modality m, on the block's
normalised input, in parallel with the block. `shared` is one Linear(d, d) per layer used by the
vision and the text adapter of that layer. The vision up-projection is a spatial Linear plus a
temporal depthwise convolution (kernel 3) over the T frames of that Linear's output, summed
(over the T / tubelet token frames where the backbone groups frames into tubelets)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import AdapterConfig, BackboneConfig


def _kaiming(module: nn.Module) -> nn.Module:
    nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    nn.init.zeros_(module.bias)
    return module


class TextAdapter(nn.Module):
    def __init__(self, width: int, dim: int):
        super().__init__()
        self.down = _kaiming(nn.Linear(width, dim))
        self.up = _kaiming(nn.Linear(dim, width))


class VisionAdapter(nn.Module):
    def __init__(self, width: int, dim: int, kernel: int):
        super().__init__()
        self.down = _kaiming(nn.Linear(width, dim))
        self.up = _kaiming(nn.Linear(dim, width))
        self.temporal = _kaiming(nn.Conv1d(width, width, kernel, padding=kernel // 2, groups=width))


class MSTA(nn.Module):
    """All trainable parameters. Layer i (0-based) has shared[str(i)], vision[str(i)], text[str(i)]."""

    def __init__(self, backbone: BackboneConfig, cfg: AdapterConfig):
        super().__init__()
        deepest = min(backbone.vision_layers, backbone.text_layers)
        if cfg.last_layer > deepest:
            raise ValueError(f"adapter layers {cfg.first_layer}-{cfg.last_layer}: the backbone has {deepest} layers")
        if cfg.dim < 1:
            raise ValueError(f"adapter dim must be positive, got {cfg.dim}")
        self.cfg = cfg
        self.backbone_cfg = backbone
        layers = [str(i) for i in cfg.layers()]
        self.shared = nn.ModuleDict({i: _kaiming(nn.Linear(cfg.dim, cfg.dim)) for i in layers})
        self.vision = nn.ModuleDict(
            {i: VisionAdapter(backbone.vision_width, cfg.dim, cfg.temporal_kernel) for i in layers})
        self.text = nn.ModuleDict({i: TextAdapter(backbone.text_width, cfg.dim) for i in layers})

    def _bottleneck(self, layer: str, down: nn.Linear, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.shared[layer](F.relu(down(x))))

    def text_adapters(self) -> dict:
        def make(layer: str):
            a = self.text[layer]
            return lambda h: self.cfg.scale * a.up(self._bottleneck(layer, a.down, h))
        return {int(i): make(i) for i in self.text}

    def vision_adapters(self, frames: int) -> dict:
        joint = self.backbone_cfg.joint_space_time

        def temporal(conv: nn.Conv1d, u: torch.Tensor) -> torch.Tensor:
            """Depthwise conv over frames of the patch tokens (joint: [B, 1+T*N, W], the class
            token has no frame and gets none; per frame: [B*T, 1+N, W], every token)."""
            if joint:
                b, tokens, w = u.shape
                n = (tokens - 1) // frames
                seq = u[:, 1:].reshape(b, frames, n, w).permute(0, 2, 3, 1).reshape(b * n, w, frames)
                out = conv(seq).reshape(b, n, w, frames).permute(0, 3, 1, 2).reshape(b, frames * n, w)
                return torch.cat([torch.zeros_like(u[:, :1]), out], dim=1)
            bt, n, w = u.shape
            b = bt // frames
            seq = u.reshape(b, frames, n, w).permute(0, 2, 3, 1).reshape(b * n, w, frames)
            return conv(seq).reshape(b, n, w, frames).permute(0, 3, 1, 2).reshape(bt, n, w)

        def make(layer: str):
            a = self.vision[layer]

            def run(h: torch.Tensor) -> torch.Tensor:
                u = a.up(self._bottleneck(layer, a.down, h))
                return self.cfg.scale * (u + temporal(a.temporal, u))
            return run
        return {int(i): make(i) for i in self.vision}
