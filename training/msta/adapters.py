"""MSTA adapters: y = lambda * up_m(ReLU(shared(ReLU(down_m(x))))) for modality m, on the block's
normalised input, in parallel with the block. `shared` is one Linear(d, d) per layer used by the
vision and the text adapter of that layer. The vision up-projection is a spatial Linear plus a
temporal depthwise convolution (kernel 3) over the T frames of that Linear's output, summed
(over the T / tubelet token frames where the backbone groups frames into tubelets).

Initialised like MMA (the authors' code base): Kaiming-normal, fan_out, ReLU gain, zero bias.
With `gradient_scale` (MMA's GradientScaleLayer pair) the adapter's input gradient is scaled by
lambda and its output gradient by 1 / lambda: the forward pass is unchanged, the gradient reaching
the rest of the network is unchanged, and the adapter's own weights get gradients as if lambda
were 1 (so the step size no longer shrinks with lambda)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import AdapterConfig, BackboneConfig


class _GradientScale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, factor: float) -> torch.Tensor:
        ctx.factor = factor
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return grad * ctx.factor, None


def gradient_scale(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Identity forward; multiplies the gradient by factor backward."""
    return _GradientScale.apply(x, factor)


def _kaiming(module: nn.Module) -> nn.Module:
    nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
    nn.init.zeros_(module.bias)
    return module


class TextAdapter(nn.Module):
    def __init__(self, width: int, dim: int):
        super().__init__()
        self.down = _kaiming(nn.Linear(width, dim))
        self.up = _kaiming(nn.Linear(dim, width))


class VisionAdapter(nn.Module):
    def __init__(self, width: int, dim: int, kernel: int, temporal: bool = True):
        super().__init__()
        self.down = _kaiming(nn.Linear(width, dim))
        self.up = _kaiming(nn.Linear(dim, width))
        if temporal:
            self.temporal = _kaiming(nn.Conv1d(width, width, kernel, padding=kernel // 2, groups=width))


def conv_over_frames(conv: nn.Conv1d, seq: torch.Tensor) -> torch.Tensor:
    """conv(seq) for seq [B*N, W, T], run as a 1 x k Conv2d with the same weights: onnxruntime's
    CPU kernel for a depthwise Conv1d took 7x as long as its Conv2d kernel for the same sum."""
    out = F.conv2d(seq.unsqueeze(2), conv.weight.unsqueeze(2), conv.bias, padding=(0, conv.padding[0]), groups=conv.groups)
    return out.squeeze(2)


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
            {i: VisionAdapter(backbone.vision_width, cfg.dim, cfg.temporal_kernel, cfg.temporal) for i in layers})
        self.text = nn.ModuleDict({i: TextAdapter(backbone.text_width, cfg.dim) for i in layers})

    def _bottleneck(self, layer: str, down: nn.Linear, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.shared[layer](F.relu(down(x))))

    def _scaled(self, branch, h: torch.Tensor) -> torch.Tensor:
        """lambda * branch(h), with MMA's gradient scaling around it when configured."""
        lam = self.cfg.scale
        if not self.cfg.gradient_scale:
            return lam * branch(h)
        return gradient_scale(lam * branch(gradient_scale(h, lam)), 1.0 / lam)

    def text_adapters(self) -> dict:
        def make(layer: str):
            a = self.text[layer]
            return lambda h: self._scaled(lambda x: a.up(self._bottleneck(layer, a.down, x)), h)
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
                out = conv_over_frames(conv, seq).reshape(b, n, w, frames).permute(0, 3, 1, 2).reshape(b, frames * n, w)
                return torch.cat([torch.zeros_like(u[:, :1]), out], dim=1)
            bt, n, w = u.shape
            b = bt // frames
            seq = u.reshape(b, frames, n, w).permute(0, 2, 3, 1).reshape(b * n, w, frames)
            return conv_over_frames(conv, seq).reshape(b, n, w, frames).permute(0, 3, 1, 2).reshape(bt, n, w)

        def make(layer: str):
            a = self.vision[layer]

            def branch(h: torch.Tensor) -> torch.Tensor:
                u = a.up(self._bottleneck(layer, a.down, h))
                return u + temporal(a.temporal, u) if self.cfg.temporal else u
            return lambda h: self._scaled(branch, h)
        return {int(i): make(i) for i in self.vision}
